import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const port = Number(process.env.PORT ?? 3000);
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log', 'debug'] });
await app.listen(port);
const url = `http://localhost:${port}`;
console.log(`
nestjs-cors example API on ${url}

An accepted preflight (204 with Access-Control-Allow-* headers):
  curl -i -X OPTIONS ${url}/users -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization'

A rejected preflight (403 "CORS preflight rejected: origin not allowed"):
  curl -i -X OPTIONS ${url}/users -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'

A cross-site form post refused before the handler (403, CSRF protection):
  curl -i -X POST ${url}/users -H 'Origin: https://evil.example' -d 'a=1'
`);
