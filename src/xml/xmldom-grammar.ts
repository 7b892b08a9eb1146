/**
 * @xmldom/xmldom 0.9 compiles a new Unicode RegExp from its grammar for every end tag it reads
 * (sax.js: `g.reg('^', g.QName_group, g.S_OPT, '$')`); under load that was some 10% of the
 * service's CPU. The grammar's `reg` is memoized here by the sources it combines: the same
 * expression, compiled once. The patterns have no g or y flag, so a shared RegExp keeps no state
 * between uses. Imported by parse.ts before any document is parsed.
 */
import grammar from "@xmldom/xmldom/lib/grammar.js";

type Part = RegExp | string;
const original = grammar.reg;
const compiled = new Map<string, RegExp>();
// The grammar's RegExps are long-lived objects: a key names them by identity, not by their
// source (QName_group's source is thousands of characters: joining it into a key for every end
// tag cost as much as the compilation it saved).
const ids = new WeakMap<object, number>();
let nextId = 0;
const idOf = (re: object): number => {
  let id = ids.get(re);
  if (id === undefined) ids.set(re, (id = nextId++));
  return id;
};

if (!(original as { memoized?: boolean }).memoized) {
  const memo = function (this: unknown, ...parts: Part[]): RegExp {
    let key = "";
    for (const p of parts) key += typeof p === "string" ? `s${p}\u0000` : `r${idOf(p)}\u0000`;
    let re = compiled.get(key);
    if (!re) {
      re = original.apply(this, parts);
      if (compiled.size < 256) compiled.set(key, re);
    }
    return re;
  };
  (memo as { memoized?: boolean }).memoized = true;
  grammar.reg = memo;
}
