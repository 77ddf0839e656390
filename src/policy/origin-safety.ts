import { getDomain } from 'tldts';

/** What decides whether an allowed origin is safe: credentials, and the opt-ins that accept the risks they bring. */
export interface OriginSafety {
  credentials: boolean;
  dangerouslyAllowPublicSuffixWildcards: boolean;
  dangerouslyAllowNullOriginWithCredentials: boolean;
  dangerouslyAllowInsecureOriginsWithCredentials: boolean;
}

export const SAFE_BY_DEFAULT: Omit<OriginSafety, 'credentials'> = {
  dangerouslyAllowPublicSuffixWildcards: false,
  dangerouslyAllowNullOriginWithCredentials: false,
  dangerouslyAllowInsecureOriginsWithCredentials: false,
};

/** What an origin lets others do once responses carry credentials; each has its opt-in. */
export type CredentialRisk = 'public suffix' | 'null' | 'insecure';

const OPT_IN: Record<CredentialRisk, Exclude<keyof OriginSafety, 'credentials'>> = {
  'public suffix': 'dangerouslyAllowPublicSuffixWildcards',
  null: 'dangerouslyAllowNullOriginWithCredentials',
  insecure: 'dangerouslyAllowInsecureOriginsWithCredentials',
};

const WHY: Record<CredentialRisk, string> = {
  'public suffix': `anyone can register a name under a public suffix, and its pages could then read these responses with your users' cookies`,
  null: `sandboxed iframes, data: URLs and local files of any site send 'null', and could read these responses with your users' cookies`,
  insecure: `anyone on the network path to that origin can read and rewrite its pages, and with them these responses and your users' cookies`,
};

/** The problems and the opt-in uses found in one `origin` option. */
export class OriginFindings {
  readonly problems: string[] = [];
  /** What an opt-in let through: logged as a warning at startup. */
  readonly tolerated: string[] = [];

  constructor(readonly safety: OriginSafety) {}

  /** `what` is dangerous with credentials; refused unless its opt-in is set. `fix` says what to write instead. */
  withCredentials(risk: CredentialRisk, what: string, fix: string): void {
    if (!this.safety.credentials) return;
    const optIn = OPT_IN[risk];
    if (this.safety[optIn]) this.tolerated.push(`${what}, with credentials (${optIn}): ${WHY[risk]}`);
    else
      this.problems.push(`${what}, with credentials: ${WHY[risk]}. ${fix}, or set ${optIn}: true if you truly mean it`);
  }
}

/**
 * The hosts a page can only be served from by this very machine: `localhost` and the names under it (RFC 6761, which
 * Fetch's "potentially trustworthy origin" follows), `127.0.0.0/8` and `[::1]`. No network path to read or rewrite.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.[0-9.]+$/.test(host) || host === '[::1]';
}

/** Whether browsers read `host` as an IP address: IPv6 in brackets, or a host whose last label is a number (WHATWG URL). */
export function isIpHost(host: string): boolean {
  return host.startsWith('[') || /^(?:0x[0-9a-f]*|[0-9]+)$/.test(host.slice(host.lastIndexOf('.') + 1));
}

/**
 * Whether a label directly under `parent` is a name that anyone can register: `parent` is a public suffix (`co.uk`,
 * `github.io`, `vercel.app`) or lies under a wildcard rule of the list (`*.compute.amazonaws.com`). Asked of the Public
 * Suffix List, private section included, through `tldts`. Names under `localhost` never leave the machine.
 */
export function isRegistrableUnder(parent: string): boolean {
  if (parent === 'localhost' || parent.endsWith('.localhost')) return false;
  const probe = `label.${parent}`;
  const domain = getDomain(probe, { allowPrivateDomains: true });
  return domain === null || domain === probe;
}

/** Only `http` carries a page in clear text: `https` is its secure form, other schemes are not web pages' origins. */
export function isInsecureScheme(scheme: string): boolean {
  return scheme === 'http';
}
