import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The file's text, or `undefined` where there is no file yet. */
export function readBaseline(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes the file only where its text changes, so that an unchanged baseline keeps its timestamp. */
export function writeBaseline(file: string, text: string): void {
  if (readBaseline(file) === text) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
