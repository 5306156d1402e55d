import { html, type SafeHtml } from '../html.ts';

export function loginPage(o: { next: string; error?: string; expired?: boolean }): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · opsloop</title>
<link rel="stylesheet" href="/console/assets/console.css">
<link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
</head>
<body class="login">
<main>
  <form class="card login-card" method="post" action="/console/login">
    <h1>opsloop console</h1>
    <p class="muted">Log in with the API token (operator) or the viewer token (read-only).</p>
    ${o.expired ? html`<p class="notice">Your session ended. Log in again.</p>` : ''}
    ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
    <label>Token<input type="password" name="token" autocomplete="current-password" required autofocus></label>
    <input type="hidden" name="next" value="${o.next}">
    <button class="btn primary" type="submit">Log in</button>
  </form>
</main>
</body>
</html>`;
}
