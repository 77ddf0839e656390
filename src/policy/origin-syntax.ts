import {
  isInsecureScheme,
  isIpHost,
  isLoopbackHost,
  isRegistrableUnder,
  type OriginFindings,
} from './origin-safety.js';

/**
 * A serialized origin as browsers send it: lower-case scheme and ASCII host, an optional port, nothing else.
 * Anything that is not of this shape (two joined `Origin` values, CR/LF, a path, upper case, a trailing dot, an
 * underscore, userinfo) is never allowed, whatever the policy, so patterns, RegExps and functions only ever see
 * well-formed input.
 */
export const SERIALIZED_ORIGIN =
  /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?$/;
const ORIGIN_PATTERN =
  /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}|\*))?$/;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };
/** Schemes whose origins the WHATWG URL parser serializes (others serialize as `null`). */
const SPECIAL_SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'ftp']);
const MAX_PORT = 65535;

export interface OriginPattern {
  scheme: string;
  /** `.example.com` for `*.example.com`, else undefined and `host` must be equal. */
  suffix: string | undefined;
  host: string;
  /** `'*'` any port, `''` none, or the port itself. */
  port: string;
}

/** Checks a configured origin: written exactly as a browser would send it, and safe with the policy's credentials. */
export function checkExactOrigin(origin: string, findings: OriginFindings): void {
  if (origin === 'null') {
    findings.withCredentials(
      'null',
      `origin 'null'`,
      `Remove 'null' and serve those pages from an origin of their own`,
    );
    return;
  }
  const problem = describeOriginProblem(origin);
  if (problem !== undefined) {
    findings.problems.push(`origin '${origin}' ${problem}`);
    return;
  }
  const [, scheme, host] = SERIALIZED_ORIGIN.exec(origin) as RegExpExecArray;
  if (isInsecureScheme(scheme) && !isLoopbackHost(host)) {
    findings.withCredentials(
      'insecure',
      `origin '${origin}' is plain http`,
      `Write '${origin.replace(/^http:/, 'https:')}'`,
    );
  }
}

function describeOriginProblem(origin: string): string | undefined {
  if (/\s/.test(origin)) return 'contains whitespace';
  if (/[^\x21-\x7e]/.test(origin)) return 'is not ASCII: write the host in punycode (xn--...)';
  if (origin !== origin.toLowerCase()) return 'has upper case: browsers send scheme and host in lower case';
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/.exec(origin);
  if (authority === null) return 'is not of the form scheme://host[:port]';
  if (authority[1].includes('@')) return 'has userinfo (user@): origins never carry it';
  if (authority[2] !== '')
    return `has a path, query or trailing slash ('${authority[2]}'): an origin is scheme://host[:port] only`;
  const parts = SERIALIZED_ORIGIN.exec(origin);
  if (parts === null) return 'is not of the form scheme://host[:port]';
  const [, scheme, , port] = parts;
  if (port !== undefined && Number(port) > MAX_PORT)
    return `has port ${port}, over ${MAX_PORT}: no browser sends it, so it would never match`;
  if (port !== undefined && DEFAULT_PORTS[scheme] === port) {
    return `has the default port :${port}: browsers leave it out, so it would never match`;
  }
  if (!SPECIAL_SCHEMES.has(scheme)) return undefined;
  let serialized: string;
  try {
    serialized = new URL(origin).origin;
  } catch {
    return 'is not a valid URL origin (a host browsers cannot parse): it would never match';
  }
  return serialized === origin ? undefined : `is sent by browsers as '${serialized}': as written it would never match`;
}

/** Parses and checks a pattern (`https://*.example.com`, `http://localhost:*`); `undefined` where it is refused. */
export function parsePattern(pattern: string, findings: OriginFindings): OriginPattern | undefined {
  const parts = ORIGIN_PATTERN.exec(pattern);
  const fail = (why: string) => void findings.problems.push(`origin pattern '${pattern}' ${why}`);
  if (parts === null) {
    return fail(`is not supported: use 'https://*.example.com' (subdomains) or 'http://localhost:*' (any port)`);
  }
  const [, scheme, wildcardLabel, host, port = ''] = parts;
  const wildcard = wildcardLabel !== undefined;
  if (port !== '*' && Number(port) > MAX_PORT)
    return fail(`has port ${port}, over ${MAX_PORT}: no browser sends it, so it would never match`);
  if (port !== '*' && port !== '' && DEFAULT_PORTS[scheme] === port) return fail(`has the default port :${port}`);
  if (wildcard && isIpHost(host)) {
    return fail(
      `is a wildcard over the IP address ${host}, which has no subdomains: it would never match. List the address itself`,
    );
  }
  if (wildcard && !host.includes('.') && host !== 'localhost') return fail(`would allow a whole top-level domain`);
  if (wildcard && isRegistrableUnder(host)) {
    findings.withCredentials(
      'public suffix',
      `origin pattern '${pattern}' is a wildcard over the public suffix ${host}`,
      `List the origins you own under it ('${scheme}://yours.${host}')`,
    );
  }
  if (isInsecureScheme(scheme) && !isLoopbackHost(host)) {
    findings.withCredentials(
      'insecure',
      `origin pattern '${pattern}' is plain http`,
      `Write '${pattern.replace(/^http:/, 'https:')}'`,
    );
  }
  return { scheme, suffix: wildcard ? `.${host}` : undefined, host, port };
}
