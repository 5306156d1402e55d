// Prisma CLI configuration. Only `generate`, `validate` and `format` are used (see
// scripts/prisma.mjs); the schema is applied by the SQL migrations in sql/.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
});
