/**
 * Prints the T-VAN error table (src/tvan/errors.ts) as Markdown for docs/lifecycle.md: `npm run tvan:errors`.
 * test/unit/tvan-errors.test.ts checks that docs/lifecycle.md carries exactly this output.
 */
import { renderTvanErrors } from "../src/tvan/errors.js";

console.log(renderTvanErrors());
