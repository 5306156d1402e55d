import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const pageDir = fileURLToPath(new URL('../../static/docs', import.meta.url));

/**
 * The interactive API reference at /docs: Swagger UI's files from node_modules and a
 * page of our own that loads /api/openapi.json. Static middleware only, no routes, so
 * the OpenAPI drift test sees just the API. Nothing comes from a CDN.
 */
export function docsRoutes(): Router {
  const router = Router();
  const headers = (res: express.Response) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
  };
  router.use('/docs/assets', express.static(swaggerUiDir, { index: false, setHeaders: headers, maxAge: '1d' }));
  router.use('/docs', express.static(pageDir, { setHeaders: headers, redirect: true }));
  return router;
}
