import { expect } from 'vitest';
import { InvalidArgumentError } from '../../src/index';

/** The call must throw (or reject with) an InvalidArgumentError naming `argument`; that error. */
export async function expectInvalidArgument(argument: string, call: () => unknown): Promise<InvalidArgumentError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, argument).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).argument, argument).toBe(argument);
  return error as InvalidArgumentError;
}

/** Each call must throw (or reject with) an InvalidArgumentError naming its `argument`. */
export async function expectInvalidArguments(cases: readonly (readonly [argument: string, call: () => unknown])[]): Promise<void> {
  for (const [argument, call] of cases) await expectInvalidArgument(argument, call);
}
