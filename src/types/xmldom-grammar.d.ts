// The one internal of @xmldom/xmldom the service touches (xml/xmldom-grammar.ts).
declare module "@xmldom/xmldom/lib/grammar.js" {
  const grammar: { reg: (this: unknown, ...parts: (RegExp | string)[]) => RegExp };
  export default grammar;
}
