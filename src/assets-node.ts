/** Node: reads the files of public/ that the app serves (on Workers the platform serves public/). */
import { readFile } from "node:fs/promises";

const PUBLIC = new URL("../public/", import.meta.url);

/** The bytes of public/<path>, or null when missing. Callers pass fixed paths only. */
export async function readPublicAsset(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(new URL(`.${path}`, PUBLIC));
  } catch {
    return null;
  }
}
