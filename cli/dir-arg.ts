import { resolve } from 'node:path';
import { shellWord } from './command-line.js';

/** ` --dir D` for the next-step commands we print, or nothing when D is where the user already is. */
export function dirArg(dir: string, cwd: string = process.cwd()): string {
  const absolute = resolve(dir);
  return absolute === resolve(cwd) ? '' : ` --dir ${shellWord(absolute)}`;
}
