/**
 * A service's settings declared once, as data: each environment variable with its default, what it
 * allows and one sentence of meaning. readSettings() validates the environment from the table (the
 * one-line ConfigErrors of env.ts), and `make docs` writes docs/configuration.md from the same
 * tables, so a default is spelled in one place.
 */
import { logLevels, readChoice, readInteger, readRequired, readString, type Env } from './env.ts';

/** One environment variable: how it is read, and how docs/configuration.md describes it. */
export interface Setting<T> {
  /** The default as docs/configuration.md shows it; undefined for a required setting. */
  readonly defaultText: string | undefined;
  /** What a value may be, in words (a range, a list of choices). */
  readonly allowed: string;
  /** One sentence: what the setting does. */
  readonly meaning: string;
  /** The value in the environment, or the default; throws ConfigError naming the variable. */
  read(env: Env, name: string): T;
}

export type SettingsTable = Readonly<Record<string, Setting<unknown>>>;
export type SettingsValues<T extends SettingsTable> = { readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : never };

/** A whole number from min to max. */
export function integerSetting(fallback: number, min: number, max: number, meaning: string): Setting<number> & { readonly defaultValue: number } {
  return { defaultText: String(fallback), defaultValue: fallback, allowed: `${min} to ${max}`, meaning, read: (env, name) => readInteger(env, name, fallback, min, max) };
}

/** One of a list of words. */
export function choiceSetting<const C extends readonly string[]>(fallback: C[number], choices: C, meaning: string): Setting<C[number]> {
  return { defaultText: fallback, allowed: choices.join(', '), meaning, read: (env, name) => readChoice(env, name, fallback, choices) };
}

/** Free text; parse turns it into a value and throws ConfigError (naming the variable) when it cannot. */
export function textSetting<T = string>(fallback: string, allowed: string, meaning: string, parse?: (text: string, name: string) => T): Setting<T> {
  return {
    defaultText: fallback,
    allowed,
    meaning,
    read: (env, name) => {
      const text = readString(env, name, fallback);
      return parse ? parse(text, name) : (text as T);
    },
  };
}

/** Must be set; `what` completes "NAME is not set: give it …". */
export function requiredSetting(what: string, meaning: string): Setting<string> {
  return { defaultText: undefined, allowed: what, meaning, read: (env, name) => readRequired(env, name, what) };
}

/** Every setting of the table, read from env (unset or empty: the default). */
export function readSettings<T extends SettingsTable>(table: T, env: Env): SettingsValues<T> {
  return Object.fromEntries(Object.entries(table).map(([name, setting]) => [name, setting.read(env, name)])) as SettingsValues<T>;
}

/**
 * Variables a service's runtime reads, not its own code (Node's NODE_OPTIONS, grpc-js's GRPC_TRACE):
 * listed so the deployment files may set them and docs/configuration.md names them.
 */
export interface RuntimeSetting {
  readonly defaultText: string;
  readonly meaning: string;
}

/** The logging settings both services read (createServiceLogger). */
export const loggingSettings = {
  LOG_LEVEL: choiceSetting('info', logLevels, 'The lowest level of log line written.'),
  // Below 16 KiB, the most pino's destination writes at once: a larger buffer would stop it.
  LOG_BUFFER_BYTES: integerSetting(4096, 0, 16 * 1024 - 1, 'Log lines are gathered this many bytes per write and written within a second and at exit; 0 writes each line at once.'),
} as const;

/** What Node and grpc-js read in both services' containers. */
export const nodeRuntimeSettings: Readonly<Record<string, RuntimeSetting>> = {
  NODE_OPTIONS: { defaultText: '', meaning: "Node's own command-line options (V8's heap sizes, for instance)." },
  GRPC_TRACE: { defaultText: '', meaning: "grpc-js's tracers to log, e.g. `server,http2` (with GRPC_VERBOSITY=DEBUG)." },
  GRPC_VERBOSITY: { defaultText: 'ERROR', meaning: 'The lowest level grpc-js logs: DEBUG, INFO or ERROR.' },
};

/**
 * The OpenTelemetry variables both Node services pass to the SDK (common/src/tracing.ts), by the
 * specification's names: nothing of ours is added for what the specification already names.
 */
export const openTelemetrySettings: Readonly<Record<string, RuntimeSetting>> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: { defaultText: '', meaning: 'Where spans go, over OTLP/gRPC (e.g. `http://collector:4317`); empty: tracing off and the SDK not even loaded.' },
  OTEL_SERVICE_NAME: { defaultText: '', meaning: 'The service name on every span; empty: `dice-server` or `dice-webapp`.' },
  OTEL_TRACES_SAMPLER: { defaultText: 'parentbased_always_on', meaning: "Which calls are traced; the parent-based samplers follow the caller's decision (`parentbased_traceidratio` with OTEL_TRACES_SAMPLER_ARG samples a share)." },
  OTEL_TRACES_SAMPLER_ARG: { defaultText: '', meaning: 'The share a `traceidratio` sampler keeps, 0 to 1.' },
  OTEL_SDK_DISABLED: { defaultText: 'false', meaning: '`true` turns tracing off whatever the endpoint says.' },
  OTEL_METRICS_EXPORTER: { defaultText: '', meaning: 'With tracing on, `otlp` sends the SDK\'s metrics to the collector too (over OTEL_EXPORTER_OTLP_PROTOCOL); empty: none (the metrics are Prometheus, on METRICS_PORT).' },
  OTEL_LOGS_EXPORTER: { defaultText: '', meaning: 'With tracing on, `otlp` sends the log lines to the collector too (over OTEL_EXPORTER_OTLP_PROTOCOL); empty: none (they go to stdout, with trace_id and span_id).' },
  OTEL_EXPORTER_OTLP_PROTOCOL: { defaultText: '', meaning: 'How metrics and logs reach the collector: `grpc` for the port spans use (4317); empty: the SDK\'s default, protobuf over HTTP. Spans always go over gRPC.' },
};

