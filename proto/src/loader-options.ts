import type { Options } from '@grpc/proto-loader';

/**
 * The one definition of how api.proto is loaded. The runtime loader and proto-loader-gen-types both
 * read it, so the generated types always describe the objects the loader really produces.
 */
export const loaderOptions = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;

/** The same options as proto-loader-gen-types command-line flags. */
export function loaderOptionsAsFlags(options: Options = loaderOptions): string[] {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === true) flags.push(`--${name}`);
    else if (typeof value === 'function') flags.push(`--${name}=${value.name}`);
    else if (value !== false && value !== undefined) flags.push(`--${name}=${String(value)}`);
  }
  return flags;
}
