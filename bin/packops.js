#!/usr/bin/env node
// Thin shim: everything lives in the compiled CLI entry.
import { main } from '../dist/cli/main.js';

await main(process.argv);
