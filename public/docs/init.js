// Starts the Scalar API reference on /docs. A file rather than an inline script, so that a
// Content-Security-Policy with script-src 'self' allows it. No fonts or telemetry from outside:
// the documentation works offline. No developer toolbar either: its links lead to Scalar's cloud.
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  hideClientButton: false,
  showDeveloperTools: "never",
});
