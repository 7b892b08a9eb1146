#!/usr/bin/env node
// The `hoadon` command (package.json "bin"): runs src/cli/index.ts through tsx, as npm start does.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/index.ts");
process.exitCode = await main(process.argv.slice(2));
