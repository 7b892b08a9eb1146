/**
 * `hoadon <command> …`: one dispatcher, a table of subcommands. Each subcommand is a module that
 * exports `run(args, io)` and answers an exit code; add one by adding a row.
 */
import { fileURLToPath } from "node:url";
import type { CliIo } from "./io.js";

type Command = { summary: string; run: (args: string[], io: CliIo) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  check: {
    summary: "run the gate offline on invoice files (HDon or TDiep): every signature, the certificate, schema and rules",
    run: async (args, io) => (await import("./check.js")).run(args, io),
  },
  sign: {
    summary: "sign an invoice with the profile's seller signature (--key, --cert; for tests and sandboxes)",
    run: async (args, io) => (await import("./sign.js")).run(args, io),
  },
  submit: {
    summary: "POST invoices to a running service (--url, --key; --dry-run)",
    run: async (args, io) => (await import("./submit.js")).submit(args, io),
  },
  verify: {
    summary: "check a stamped invoice: through a service (--url) or against the authority's certificate (--authority-cert)",
    run: async (args, io) => (await import("./submit.js")).verify(args, io),
  },
  log: {
    summary: "the transparency log: verify-inclusion, verify-consistency, mirror (docs/transparency-log.md)",
    run: async (args, io) => (await import("./log.js")).run(args, io),
  },
};

function usage(io: CliIo): number {
  io.err("usage: hoadon <command> [options]\n\ncommands:");
  for (const [name, c] of Object.entries(COMMANDS)) io.err(`  ${name.padEnd(10)} ${c.summary}`);
  return 2;
}

export async function main(argv: string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l), fetch }): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) return usage(io);
  return command.run(rest, io);
}

// Run as a program (bin/hoadon.mjs, or `tsx src/cli/index.ts`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`hoadon: ${(e as Error)?.message ?? e}`);
      process.exitCode = 1;
    },
  );
}
