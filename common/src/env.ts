/**
 * Readers for settings that come from environment variables. Each throws ConfigError with one
 * sentence naming the variable, so main() can print that line and stop.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = raw(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${env[name]}"`);
  }
  return value;
}

export function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const text = raw(env, name);
  if (text === undefined) return fallback;
  const choice = choices.find((c) => c === text);
  if (choice === undefined) throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${text}"`);
  return choice;
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readRequired(env: Env, name: string, what: string): string {
  const text = raw(env, name);
  if (text === undefined) throw new ConfigError(`${name} is not set: give it ${what}`);
  return text;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
