import { Document, parse, visit } from 'yaml';

/** One object of a manifest file, with what it is for as the comment above it. */
export interface Manifest {
  comment: string;
  object: object;
}

/**
 * Whether a YAML reader could take the string for something else when written plain: kubectl
 * reads YAML 1.1 (`y`, `on`, `012`, `1:20` are booleans and numbers there), kustomize's kyaml
 * YAML 1.2 (`0o17` is a number there). Both are asked, and such a string is double-quoted.
 */
function readsAsOtherThan(value: string): boolean {
  for (const version of ['1.1', '1.2'] as const) {
    try {
      if (parse(value, { version }) !== value) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * A document as text. Every value goes through the yaml library, never into a string: a value
 * that looks like YAML stays a value, and one that a reader of either YAML version would take
 * for a boolean, a number or null is quoted. No anchors for objects used twice (a workload's
 * labels on it and on its pod template): plain copies read better and every tool reads them.
 */
export function kubernetesYamlText(value: object, comment: string): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && readsAsOtherThan(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  doc.commentBefore = comment;
  // The 1.1 schema quotes what 1.1 readers would misread (yes/no/on/off) among the strings written plain.
  doc.setSchema('1.1');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A multi-document YAML file: the header and each object's comment above it. */
export function manifestFileText(header: readonly string[], manifests: readonly Manifest[]): string {
  if (manifests.length === 0) throw new TypeError('a manifest file needs at least one object');
  const texts = manifests.map(({ comment, object }, index) => {
    const lines = index === 0 ? [...header, '', ...comment.split('\n')] : comment.split('\n');
    return kubernetesYamlText(object, lines.map((line) => (line === '' ? '' : ` ${line}`)).join('\n'));
  });
  return texts.join('---\n');
}
