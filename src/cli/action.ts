/**
 * Wraps a command handler: builds the context from the parsed options, then runs it.
 * Errors propagate to the single boundary in main.ts.
 */
import type { Command } from 'commander';
import { InvalidArgumentError as InvalidOptionValue } from 'commander';
import { buildContext, type CliContext } from './context.js';

export type Handler<A extends unknown[], O> = (ctx: CliContext, args: A, opts: O, command: Command) => Promise<void>;

export function action<A extends unknown[], O = Record<string, unknown>>(handler: Handler<A, O>) {
  return async (...raw: unknown[]): Promise<void> => {
    const command = raw[raw.length - 1] as Command;
    const opts = raw[raw.length - 2] as O;
    const args = raw.slice(0, -2) as A;
    const ctx = buildContext(command);
    await handler(ctx, args, opts, command);
  };
}

/** Parses an integer option strictly (commander's argParser). */
export function intOption(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidOptionValue(`${name} takes a whole number, not "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidOptionValue(`${name} must be between ${min} and ${max}`);
    return n;
  };
}


