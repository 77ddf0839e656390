import 'reflect-metadata';
import { startPlayground } from './playground/server.js';

const { apiUrl, playgroundUrl } = await startPlayground(Number(process.env.PORT ?? 3000), Number(process.env.PLAYGROUND_PORT ?? 3001));
console.log(`
nestjs-cors example API on ${apiUrl}
CORS playground on      ${playgroundUrl}   (open it in a browser)

An accepted preflight (204 with Access-Control-Allow-* headers):
  curl -i -X OPTIONS ${apiUrl}/users -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization'

A rejected preflight (403 "CORS preflight rejected: origin not allowed"):
  curl -i -X OPTIONS ${apiUrl}/users -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'

A cross-site form post refused before the handler (403, CSRF protection):
  curl -i -X POST ${apiUrl}/users -H 'Origin: https://evil.example' -d 'a=1'
`);
