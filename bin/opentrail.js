#!/usr/bin/env node
// The `opentrail` command: runs the TypeScript sources through bin/ts-loader.js, which starts in a fraction of
// tsx's time (see there); stack traces point into the .ts files, as under tsx.
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./ts-loader.js', import.meta.url);
await import('../src/main.ts');
