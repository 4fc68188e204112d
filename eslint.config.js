// Lint rules, and the layering they enforce: core and cli never import Electron, the renderer
// never imports Node, the guest server stands alone (it ships into VM images as one file).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const noElectron = {
  name: 'electron',
  message: 'electron/core and electron/cli are plain Node: only electron/main and electron/preload may import Electron.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'guest-server/dist/**', 'renderer/dist/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The guest image's start-up scripts run as CommonJS under the image's bare Node.
    files: ['build/guest-image/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['electron/core/**', 'electron/cli/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noElectron],
        patterns: [
          { group: ['electron/*', '**/main/*', '**/preload/*'], message: 'core and cli must not reach into the Electron glue.' },
          { group: ['**/renderer/**'], message: 'core and cli must not import the renderer.' },
        ],
      }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'The renderer runs in a sandboxed page: no Node modules.' })),
          { name: 'electron', message: 'The renderer talks to main only through the preload API built from the contract.' },
        ],
        patterns: [
          { group: ['**/electron/core/**', '**/electron/main/**', '**/electron/cli/**', '**/guest-server/**'], message: 'The renderer imports only the IPC contract from electron/.' },
        ],
      }],
    },
  },
  {
    // The contract is imported by the renderer too: it must stay browser-safe.
    files: ['electron/contract/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'The IPC contract is imported by the renderer: no Node modules.' })),
          { name: 'electron', message: 'The IPC contract is shared with the renderer and the web mode: no Electron.' },
        ],
        patterns: [{ regex: '^(?!zod$|\\.\\./core/autoscaler/policies$|\\.\\./core/loadgen/profiles$|\\./)', message: 'The contract may import only zod and pure schema modules (policies, profiles).' }],
      }],
    },
  },
  {
    files: ['guest-server/src/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The guest server runs inside VMs.' }],
        patterns: [
          { group: ['**/electron/**', '**/renderer/**'], message: 'The guest server stands alone: it is bundled into one file for VM images.' },
          { regex: '^(?!node:|\\.|zod/mini$|zod/v4/locales/en\\.js$)', message: 'The guest server may import only node: builtins, zod/mini with its English messages, and its own files (it ships without node_modules).' },
        ],
      }],
    },
  },
);
