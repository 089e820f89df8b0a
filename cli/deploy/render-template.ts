/**
 * Fills the `{{name}}` placeholders of one template file under `templates/` with values from a
 * plain object. Hand-written on purpose: the templates are data (YAML, Dockerfiles), and this
 * 20-line renderer, whose only feature is substituting whole values, beats a template-engine
 * dependency with loops, conditionals and HTML escaping we would have to switch off. What varies
 * in structure (one bridge per server) is a fragment rendered once per item and merged as YAML.
 *
 * `yaml`: every placeholder stands for a whole YAML value (or key) and is written as JSON, which
 * YAML 1.2 reads as a flow scalar or collection, so no value can break out of its place.
 * `text` (Dockerfiles): the value goes in as it is; it must be a single line.
 */
export type TemplateValue = string | number | boolean | readonly TemplateValue[] | { readonly [key: string]: TemplateValue };

export type TemplateFormat = 'yaml' | 'text';

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

export function renderTemplate(template: string, values: Readonly<Record<string, TemplateValue>>, options: { format: TemplateFormat; source: string }): string {
  const unused = new Set(Object.keys(values));
  const rendered = template.replace(PLACEHOLDER, (_whole, name: string) => {
    // Our own templates and our own values: a mismatch is a bug in this package, not user input.
    if (!Object.hasOwn(values, name)) throw new TypeError(`${options.source}: no value for the placeholder {{${name}}}`);
    unused.delete(name);
    const value = values[name]!;
    if (options.format === 'yaml') return JSON.stringify(value);
    if (typeof value === 'object' || /[\r\n]/.test(String(value)))
      throw new TypeError(`${options.source}: {{${name}}} must be a one-line string in a text template`);
    return String(value);
  });
  if (unused.size > 0) throw new TypeError(`${options.source}: values without a placeholder: ${[...unused].join(', ')}`);
  return rendered;
}
