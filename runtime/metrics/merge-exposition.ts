/**
 * Several replicas' Prometheus text expositions as one, each sample labelled with its replica:
 * the router relays a replicated bridge's metrics at one path (`/metrics/bridge-NAME`), and
 * without the label Prometheus would see one replica's counters at one scrape and another's at
 * the next. Written here because nothing maintained does it: prom-client's AggregatorRegistry sums
 * its own JSON form instead of keeping replicas apart, and the format forbids the obvious
 * concatenation (a metric family's HELP and TYPE appear once, its samples together).
 *
 * It reads what prom-client writes (and any well-formed text exposition): `# HELP name ...` and
 * `# TYPE name ...` open a family, samples follow, other comments and blank lines are dropped.
 */
export interface ReplicaExposition {
  /** The label value: the replica's address. */
  replica: string;
  text: string;
}

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const FAMILY_LINE = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: |$)/;

export function mergeExpositions(parts: readonly ReplicaExposition[], label = 'replica'): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let family = families.get(name);
    if (family === undefined) families.set(name, (family = { samples: [] }));
    return family;
  };
  for (const { replica, text } of parts) {
    const value = `${label}="${escapeLabelValue(replica)}"`;
    let current: Family | undefined;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      if (line.startsWith('#')) {
        const opened = FAMILY_LINE.exec(line);
        if (opened === null) continue;
        current = familyOf(opened[2]!);
        if (opened[1] === 'HELP') current.help ??= line;
        else current.type ??= line;
        continue;
      }
      // A sample before any HELP or TYPE is a family (untyped) of its own name.
      const nameEnd = line.search(/[{ ]/);
      if (nameEnd <= 0) continue;
      (current ?? familyOf(line.slice(0, nameEnd))).samples.push(withLabel(line, nameEnd, value));
    }
  }
  const out: string[] = [];
  for (const family of families.values()) {
    if (family.help !== undefined) out.push(family.help);
    if (family.type !== undefined) out.push(family.type);
    out.push(...family.samples);
  }
  return `${out.join('\n')}\n`;
}

/** `name{a="b"} 1` -> `name{replica="x",a="b"} 1`; `name 1` -> `name{replica="x"} 1`. */
function withLabel(line: string, nameEnd: number, value: string): string {
  if (line[nameEnd] === ' ') return `${line.slice(0, nameEnd)}{${value}}${line.slice(nameEnd)}`;
  const rest = line.slice(nameEnd + 1);
  return `${line.slice(0, nameEnd)}{${value}${rest.startsWith('}') ? '' : ','}${rest}`;
}

/** The text format's escapes in a label value: backslash, double quote, line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
