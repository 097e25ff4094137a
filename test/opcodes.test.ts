import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED, renderAs, renderCpp } from '../scripts/gen-opcodes.js';

describe('generated opcode tables', () => {
  it.each([
    ['C++', GENERATED.cpp, renderCpp],
    ['AssemblyScript', GENERATED.as, renderAs],
  ] as const)('%s table is up to date with src/ops/opset.ts (run npm run gen)', (_, path, render) => {
    expect(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')).toBe(render());
  });
});
