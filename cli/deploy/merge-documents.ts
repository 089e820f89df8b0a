import { isMap, isScalar, parseDocument, visit, type Document, type YAMLMap } from 'yaml';

/** A rendered template parsed as YAML; a parse error is a bug in the template or the renderer. */
export function parseRendered(text: string, source: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new TypeError(`${source} does not parse as YAML: ${doc.errors[0]!.message}`);
  return doc;
}

function keyOf(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Merges a rendered fragment (one bridge service, one server's routers) into the document built
 * so far, node by node, so the templates' comments reach the rendered file. Maps merge key by
 * key in insertion order; the same key with two non-map values would mean two fragments claim
 * one service or router, which is a bug in the templates, so it throws.
 */
export function mergeDocuments(target: Document, fragment: Document, source: string): void {
  if (!isMap(target.contents) || !isMap(fragment.contents)) throw new TypeError(`${source}: a template must be a YAML map`);
  mergeMaps(target.contents, fragment.contents, source, []);
}

function mergeMaps(target: YAMLMap, fragment: YAMLMap, source: string, path: string[]): void {
  for (const pair of fragment.items) {
    const key = keyOf(pair.key);
    const existing = target.items.find((item) => keyOf(item.key) === key);
    if (existing === undefined) target.items.push(pair);
    else if (isMap(existing.value) && isMap(pair.value)) mergeMaps(existing.value, pair.value, source, [...path, key]);
    else throw new TypeError(`${source}: ${[...path, key].join('.')} is defined twice`);
  }
}

/** Strings a YAML 1.1 reader (older compose and Traefik parsers) would take for something else. */
const YAML11_AMBIGUOUS = /^(?:\d+(?::\d+)+|:.*)$/;

/**
 * Placeholders arrive as JSON (double-quoted strings, `{...}` maps); written back that way the
 * file would read like JSON pasted into YAML. Scalars get the plain style wherever YAML 1.1 and
 * 1.2 readers agree it is a string (`yes`, `1000:1000` and `:80` stay quoted), maps the block
 * style (`{}` stays), sequences the style the template chose.
 */
export function toYamlText(doc: Document): string {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && !YAML11_AMBIGUOUS.test(node.value)) delete node.type;
      else if (typeof node.value === 'string') node.type = 'QUOTE_DOUBLE';
    },
    Map(_key, node) {
      if (node.items.length > 0) node.flow = false;
    },
    Seq(_key, node) {
      if (node.items.some((item) => !isScalar(item))) node.flow = false;
    },
  });
  // The 1.1 schema only changes which strings get quotes (yes/no/on/off), never the data.
  doc.setSchema('1.1');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
