export { ConfigError, readChoice, readInteger, readRequired, readString, logLevels } from './env.ts';
export type { Env, LogLevel } from './env.ts';
export { choiceSetting, integerSetting, loggingSettings, nodeRuntimeSettings, openTelemetrySettings, readSettings, requiredSetting, textSetting } from './settings.ts';
export type { RuntimeSetting, Setting, SettingsTable, SettingsValues } from './settings.ts';
export { onShutdownSignal, runMain } from './main-runner.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { createServiceLogger, type ServiceLoggerOptions } from './logger.ts';
export { stopTracing } from './tracing.ts';
