import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_GENERATED } from '../scripts/gen-opcodes.js';

describe('generated opcode tables', () => {
  it.each(ALL_GENERATED)('%s is up to date with src/ops (run npm run gen)', (path, render) => {
    expect(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')).toBe(render());
  });
});
