/** Jest in ESM mode (NestJS 12 is ESM-only): run through `npm test`, which sets --experimental-vm-modules. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // The Firefox suite runs on its own (`npm run test:firefox`, test/firefox/jest.config.js): npm test needs no Firefox.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/firefox/'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};
