// OpenShift's Route (route.openshift.io/v1) checked offline. No npm package carries its schema, so
// this holds the fields and rules of the Route API reference (OpenShift 4 "Route
// [route.openshift.io/v1]"): the types, the enums, and the validation rules the API server applies
// to tls, which are what a typo or a wrong termination would break. Unknown fields are reported too,
// since the API server would drop them silently.

type Problems = string[];
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function fields(problems: Problems, where: string, value: unknown, allowed: readonly string[], required: readonly string[] = []): value is Record<string, unknown> {
  if (!isObject(value)) {
    problems.push(`${where} must be an object`);
    return false;
  }
  for (const key of Object.keys(value)) if (!allowed.includes(key)) problems.push(`${where}.${key} is not a field of the Route API`);
  for (const key of required) if (value[key] === undefined) problems.push(`${where}.${key} is required`);
  return true;
}

function oneOf(problems: Problems, where: string, value: unknown, choices: readonly string[]): void {
  if (value !== undefined && !choices.includes(value as string)) problems.push(`${where} must be one of ${choices.map((choice) => `"${choice}"`).join(', ')} (got ${JSON.stringify(value)})`);
}

function string(problems: Problems, where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') problems.push(`${where} must be a string`);
}

const dnsName = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with a Route object, as sentences; an empty list when it follows the API. */
export function routeProblems(route: unknown): Problems {
  const problems: Problems = [];
  if (!fields(problems, 'Route', route, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], ['metadata', 'spec'])) return problems;
  if (!isObject(route['metadata']) || typeof route['metadata']['name'] !== 'string') problems.push('Route.metadata.name is required');
  const spec = route['spec'];
  if (!fields(problems, 'spec', spec, ['host', 'subdomain', 'path', 'to', 'alternateBackends', 'port', 'tls', 'wildcardPolicy', 'httpHeaders'], ['to'])) return problems;

  string(problems, 'spec.host', spec['host']);
  if (typeof spec['host'] === 'string' && (spec['host'].length > 253 || !dnsName.test(spec['host']))) problems.push('spec.host must be a DNS name of at most 253 characters');
  string(problems, 'spec.path', spec['path']);
  if (typeof spec['path'] === 'string' && !spec['path'].startsWith('/')) problems.push('spec.path must start with /');
  oneOf(problems, 'spec.wildcardPolicy', spec['wildcardPolicy'], ['None', 'Subdomain', '']);

  const backend = (where: string, value: unknown): void => {
    if (value === undefined || !fields(problems, where, value, ['kind', 'name', 'weight'], ['name'])) return;
    oneOf(problems, `${where}.kind`, value['kind'], ['Service', '']);
    string(problems, `${where}.name`, value['name']);
    const weight = value['weight'];
    if (weight !== undefined && !(Number.isInteger(weight) && (weight as number) >= 0 && (weight as number) <= 256)) problems.push(`${where}.weight must be a whole number from 0 to 256`);
  };
  backend('spec.to', spec['to']);
  if (spec['alternateBackends'] !== undefined) {
    if (!Array.isArray(spec['alternateBackends']) || spec['alternateBackends'].length > 3) problems.push('spec.alternateBackends must be a list of at most 3');
    else spec['alternateBackends'].forEach((entry, index) => backend(`spec.alternateBackends[${index}]`, entry));
  }

  if (spec['port'] !== undefined && fields(problems, 'spec.port', spec['port'], ['targetPort'], ['targetPort'])) {
    const target = spec['port']['targetPort'];
    if (!(typeof target === 'string' || Number.isInteger(target))) problems.push('spec.port.targetPort must be a port number or name');
  }

  const tls = spec['tls'];
  if (tls !== undefined && fields(problems, 'spec.tls', tls, ['termination', 'certificate', 'key', 'caCertificate', 'destinationCACertificate', 'insecureEdgeTerminationPolicy', 'externalCertificate'], ['termination'])) {
    oneOf(problems, 'spec.tls.termination', tls['termination'], ['edge', 'passthrough', 'reencrypt']);
    oneOf(problems, 'spec.tls.insecureEdgeTerminationPolicy', tls['insecureEdgeTerminationPolicy'], ['Allow', 'None', 'Redirect', '']);
    for (const key of ['certificate', 'key', 'caCertificate', 'destinationCACertificate']) string(problems, `spec.tls.${key}`, tls[key]);
    if (tls['termination'] === 'passthrough') {
      // The router never opens a passthrough connection, so it has no use for certificates of its own.
      for (const key of ['certificate', 'key', 'caCertificate', 'destinationCACertificate', 'externalCertificate']) {
        if (tls[key] !== undefined && tls[key] !== '') problems.push(`spec.tls.${key} cannot be set with passthrough termination`);
      }
      if (tls['insecureEdgeTerminationPolicy'] === 'Allow') problems.push('spec.tls.insecureEdgeTerminationPolicy cannot be Allow with passthrough termination');
      if (spec['path'] !== undefined && spec['path'] !== '') problems.push('spec.path cannot be set with passthrough termination');
    }
    if (tls['termination'] !== 'reencrypt' && tls['destinationCACertificate'] !== undefined && tls['termination'] !== 'passthrough') problems.push('spec.tls.destinationCACertificate is only for reencrypt termination');
  }
  return problems;
}
