import { describe, expect, it } from '@jest/globals';
import { CorsConfigError } from '../../src/policy/cors-config.error.js';
import { CorsPolicy } from '../../src/policy/cors-policy.js';
import { samePolicy } from '../../src/policy/same-policy.js';
import {
  type GatewayDefinition,
  GatewayTable,
  type GatewayTransport,
  handshakePath,
} from '../../src/routing/gateway-table.js';

const policy = (origin: string[] | RegExp[]) => CorsPolicy.compile({ origin }, 'test');
const gateway = (
  transport: GatewayTransport,
  path: string,
  handler: string,
  gatewayPolicy = policy([]),
): GatewayDefinition<string> => ({
  transport,
  path,
  handler,
  policy: gatewayPolicy,
  value: handler,
});

describe('handshakePath', () => {
  it.each<[GatewayTransport, { path?: string; addTrailingSlash?: boolean }, string]>([
    ['ws', {}, '/'],
    ['ws', { path: 'chat/' }, '/chat'],
    ['ws', { path: '//chat//room' }, '/chat/room'],
    ['socket.io', {}, '/socket.io/'],
    ['socket.io', { path: '/chat/' }, '/chat/'],
    ['socket.io', { path: '/chat', addTrailingSlash: false }, '/chat'],
  ])('%s with %j: %s, as its server computes it', (transport, options, expected) => {
    expect(handshakePath(transport, options)).toBe(expected);
  });
});

describe('GatewayTable', () => {
  it("matches socket.io by engine.io's prefix and ws by the whole resolved path", () => {
    const table = new GatewayTable([gateway('socket.io', '/socket.io/', 'Io'), gateway('ws', '/chat', 'Ws')]);
    expect(table.forRequest('/socket.io/?EIO=4&transport=polling')).toBe('Io');
    expect(table.forRequest('/socket.io')).toBeUndefined();
    expect(table.forRequest('/chat')).toBeUndefined();
    expect(table.forUpgrade('/socket.io/?EIO=4&transport=websocket')).toBe('Io');
    expect(table.forUpgrade('/chat?room=1')).toBe('Ws');
    expect(table.forUpgrade('/a/../chat')).toBe('Ws');
    expect(table.forUpgrade('/chat/')).toBeUndefined();
    expect(table.forUpgrade('/CHAT')).toBeUndefined();
  });

  it('refuses gateways that share a handshake with different policies, naming both', () => {
    const build = () =>
      new GatewayTable([
        gateway('socket.io', '/socket.io/', 'Public', policy(['https://a.example'])),
        gateway('socket.io', '/socket.io/', 'Admin', policy(['https://b.example'])),
      ]);
    expect(build).toThrow(CorsConfigError);
    expect(build).toThrow(/Admin: it shares its handshake \(socket\.io at \/socket\.io\/\) with Public/);
    expect(
      () =>
        new GatewayTable([
          gateway('ws', '/', 'A', policy([/^https:\/\/a\.example$/])),
          gateway('ws', '/', 'B', policy([/^https:\/\/a\.example$/])),
        ]),
    ).not.toThrow();
  });
});

describe('samePolicy', () => {
  it('compares options, not instances: arrays item by item, RegExps by source and flags, functions by identity', () => {
    const allow = () => true;
    expect(samePolicy(policy(['https://a.example']), policy(['https://a.example']))).toBe(true);
    expect(samePolicy(policy(['https://a.example']), policy(['https://b.example']))).toBe(false);
    expect(samePolicy(policy([/^https:\/\/a\.example$/]), policy([/^https:\/\/a\.example$/i]))).toBe(false);
    expect(samePolicy(CorsPolicy.compile({ origin: allow }, 't'), CorsPolicy.compile({ origin: allow }, 't'))).toBe(
      true,
    );
    expect(
      samePolicy(CorsPolicy.compile({ origin: allow }, 't'), CorsPolicy.compile({ origin: () => true }, 't')),
    ).toBe(false);
    expect(
      samePolicy(
        CorsPolicy.compile({ methods: ['GET', 'POST'] }, 't'),
        CorsPolicy.compile({ methods: ['POST', 'GET'] }, 't'),
      ),
    ).toBe(false);
  });
});
