import { ConfigError } from '@dice/common';

/** Decides whether the client with this certificate CN may call this method ("/pkg.Service/Method"). */
export type AccessPolicy = (methodPath: string, commonName: string) => boolean;

const patternSyntax = /^(\*|[A-Za-z_][\w.]*\/(\*|[A-Za-z_]\w*))$/;
const nameSyntax = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses ACCESS_POLICY: rules separated by ";", each `METHOD=CN,CN,...`, where METHOD is
 * `package.Service/Method`, `package.Service/*` or `*`. The most specific rule matching a method
 * decides; a method no rule matches is refused. Returns undefined for an empty policy (every
 * verified client may call everything). Throws ConfigError naming the variable.
 */
export function parseAccessPolicy(text: string, variable = 'ACCESS_POLICY'): AccessPolicy | undefined {
  const rules = new Map<string, Set<string>>();
  for (const rule of text.split(';').map((r) => r.trim()).filter(Boolean)) {
    const [pattern = '', names = '', ...rest] = rule.split('=').map((part) => part.trim());
    const list = names.split(',').map((n) => n.trim()).filter(Boolean);
    if (rest.length > 0 || !patternSyntax.test(pattern) || list.length === 0 || !list.every((n) => nameSyntax.test(n))) {
      throw new ConfigError(`${variable} rule "${rule}" must look like api.DiceService/RollDie=dice-webapp,alice (method, service/* or *, then client CNs)`);
    }
    if (rules.has(pattern)) throw new ConfigError(`${variable} names ${pattern} twice; list all its clients in one rule`);
    rules.set(pattern, new Set(list));
  }
  if (rules.size === 0) return undefined;
  return (methodPath, commonName) => {
    const method = methodPath.replace(/^\//, '');
    const service = method.slice(0, method.lastIndexOf('/'));
    const allowed = rules.get(method) ?? rules.get(`${service}/*`) ?? rules.get('*');
    return allowed?.has(commonName) ?? false;
  };
}
