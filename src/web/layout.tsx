/** The frame of every page: language, header with the language switch, main landmark, footer. No script anywhere. */
import type { Child, FC } from "hono/jsx";
import { type Lang, WORDS } from "./i18n.js";

export interface PageProps {
  lang: Lang;
  title: string;
  /** The same page in the other language (a link: no script needed). */
  switchHref: string;
  /** Links and forms of the header (the officer's navigation). */
  nav?: Child;
  home?: string;
  /** The footer's line (default: the public pages' one). */
  footer?: string;
  children?: Child;
}

export const Layout: FC<PageProps> = ({ lang, title, switchHref, nav, home = "/", footer, children }) => {
  const w = WORDS[lang];
  const other: Lang = lang === "vi" ? "en" : "vi";
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{title}</title>
        {/* No /favicon.ico request: an empty icon. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/hoadon.css" />
      </head>
      <body>
        <a class="skip" href="#main">
          {w.skip}
        </a>
        <header class="site">
          <div class="bar">
            <a class="brand" href={home}>
              {w.service}
            </a>
            <nav aria-label={lang === "vi" ? "Điều hướng" : "Navigation"}>
              <ul>
                {nav}
                <li>
                  <a href={switchHref} hreflang={other} lang={other} aria-label={w.switchLabel}>
                    {w.switchTo}
                  </a>
                </li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {children}
        </main>
        <footer>
          <p>
            {footer ??
              (lang === "vi"
                ? "Tra cứu công khai, không cần tài khoản. Trang không lưu thông tin của người mua."
                : "Public lookup, no account needed. This page keeps no information about buyers.")}
          </p>
        </footer>
      </body>
    </html>
  );
};

/**
 * A table that may scroll sideways on a phone: the box itself takes the keyboard focus (so its
 * hidden columns can be reached with the arrow keys) and is named by its label. A group, not a
 * region: the section around it is already the landmark of that name.
 */
export const ScrollRegion: FC<{ label: string; children?: Child }> = ({ label, children }) => (
  <div class="scroll" tabindex={0} role="group" aria-label={label}>
    {children}
  </div>
);
