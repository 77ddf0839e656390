import 'reflect-metadata';
import { banner, startPlayground } from './playground/server.js';

const playground = await startPlayground(Number(process.env.PORT ?? 3000), Number(process.env.PLAYGROUND_PORT ?? 3001));
console.log(banner(playground));
