// ESLint (flat config): typescript-eslint's recommended rules, and no import cycles in src/ (import-x/no-cycle counts
// type imports too: the units depend on small contracts, not on each other). Formatting is Prettier's.
import js from '@eslint/js';
import globals from 'globals';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'bench-dist/', 'example-dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // Handlers and guards are functions of any shape here (Nest's own types say `Function`).
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    // Resolves `./x.js` to `./x.ts`, as TypeScript does, so that the cycle rule sees every import.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'example/**/*.ts'],
    // Tests build apps with classes declared inline and reach into objects the way a user would.
    rules: { '@typescript-eslint/no-extraneous-class': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
