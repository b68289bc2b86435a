export { ConfigError, readChoice, readInteger, readLogBufferBytes, readLogLevel, readRequired, readString, logLevels } from './env.ts';
export type { Env, LogLevel } from './env.ts';
export { onShutdownSignal, runMain } from './main-runner.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { createServiceLogger, type ServiceLoggerOptions } from './logger.ts';
