import { InvalidArgumentError } from 'commander';
import { suggestUrl } from '../runtime/config/url-suggestion.js';

/**
 * What is wrong with `text` as an http(s) URL typed by a person, or undefined when nothing is:
 * a bare host (`mcp.example.com`) gets the URL it probably meant. What else the URL must be
 * (https, no path) is the config schema's to say, with the words a hand-edited file gets.
 */
export function urlProblem(text: string): string | undefined {
  const trimmed = text.trim();
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:')) return undefined;
  const suggestion = suggestUrl(trimmed);
  if (suggestion !== undefined) return `Not a URL: write ${suggestion}`;
  return url === undefined
    ? 'Not a URL (e.g. https://mcp.example.com, or http://127.0.0.1:8080 on this host)'
    : `The scheme ${url.protocol} is not http or https`;
}

/**
 * commander's parser for a URL flag: a mistake is a usage error (exit 2) on one line, before
 * the command runs. Returns the text trimmed.
 */
export function urlFlag(text: string): string {
  const problem = urlProblem(text);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return text.trim();
}

/** The same check for an interactive answer (@inquirer's `validate`). */
export function validUrlAnswer(text: string): true | string {
  return urlProblem(text) ?? true;
}
