import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/** Every file of src/, relative to it. */
function sources(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the WebSocket packages stay optional', () => {
  it('no file of src/ imports @nestjs/websockets, a platform of it, ws or socket.io, statically or lazily', () => {
    const importing = sources().filter((file) =>
      /(from|import\(|require\()\s*['"](@nestjs\/websockets|@nestjs\/platform-ws|@nestjs\/platform-socket\.io|ws|socket\.io|engine\.io)(\/[^'"]*)?['"]/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(importing).toEqual([]);
  });
});
