/**
 * The shape of a serialized origin (`SERIALIZED_ORIGIN`) as a deterministic automaton: the only strings an origin
 * RegExp ever runs on are its words, so analysing a RegExp together with it looks at exactly the inputs that can occur,
 * and tells for each character whether it is part of the scheme, the host or the port.
 */
export type OriginPart = 'scheme' | 'host' | 'port';

enum State {
  Start,
  Scheme,
  Colon,
  Slash,
  HostStart,
  Label,
  Dot,
  Ipv6Start,
  Ipv6,
  Ipv6End,
  PortStart,
  Port,
}

export const GRAMMAR_START: number = State.Start;

const LETTER_DIGIT_HYPHEN = /^[a-z0-9-]$/;

/** The state after `char`, or `undefined` where no serialized origin goes on with it. */
export function grammarStep(state: number, char: string): number | undefined {
  switch (state as State) {
    case State.Start:
      return /^[a-z]$/.test(char) ? State.Scheme : undefined;
    case State.Scheme:
      if (char === ':') return State.Colon;
      return /^[a-z0-9+.-]$/.test(char) ? State.Scheme : undefined;
    case State.Colon:
      return char === '/' ? State.Slash : undefined;
    case State.Slash:
      return char === '/' ? State.HostStart : undefined;
    case State.HostStart:
      if (char === '[') return State.Ipv6Start;
      return LETTER_DIGIT_HYPHEN.test(char) ? State.Label : undefined;
    case State.Label:
      if (char === '.') return State.Dot;
      if (char === ':') return State.PortStart;
      return LETTER_DIGIT_HYPHEN.test(char) ? State.Label : undefined;
    case State.Dot:
      return LETTER_DIGIT_HYPHEN.test(char) ? State.Label : undefined;
    case State.Ipv6Start:
    case State.Ipv6:
      if (char === ']' && state === State.Ipv6) return State.Ipv6End;
      return /^[0-9a-f:.]$/.test(char) ? State.Ipv6 : undefined;
    case State.Ipv6End:
      return char === ':' ? State.PortStart : undefined;
    case State.PortStart:
      return /^[1-9]$/.test(char) ? State.Port : undefined;
    case State.Port:
      return /^[0-9]$/.test(char) ? State.Port : undefined;
  }
}

/** Whether an origin may end in `state`. */
export function grammarAccepts(state: number): boolean {
  return state === State.Label || state === State.Ipv6End || state === State.Port;
}

/** Which part of the origin `char`, read in `state`, belongs to; the `://` counts as the scheme's, the `:` before a port as the port's. */
export function grammarPart(state: number, char: string): OriginPart {
  if (state <= State.Slash) return 'scheme';
  if (state >= State.PortStart || (char === ':' && (state === State.Label || state === State.Ipv6End))) return 'port';
  return 'host';
}

/** Whether `state` is where the host begins: the character read there is the host's first. */
export function isHostStart(state: number): boolean {
  return state === State.HostStart;
}

/** Whether the host may end in `state` (the origin ends there, or its port begins). */
export function isHostEnd(state: number): boolean {
  return state === State.Label || state === State.Ipv6End;
}
