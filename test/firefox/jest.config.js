/**
 * The real-browser cases in Firefox ESR (`npm run test:firefox`): the project's Jest setup, for this folder only.
 * `npm test` leaves this folder out (jest.config.js), so it needs no Firefox.
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/firefox'],
  testMatch: ['**/*.firefox.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
