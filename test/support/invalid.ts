import { expect } from 'vitest';
import { InvalidArgumentError } from '../../src/index';

/** Each call must throw (or reject with) an InvalidArgumentError naming `argument`. */
export async function expectInvalidArguments(cases: readonly (readonly [argument: string, call: () => unknown])[]): Promise<void> {
  for (const [argument, call] of cases) {
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error, argument).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument, argument).toBe(argument);
  }
}
