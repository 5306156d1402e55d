// Prisma's own schema parser (the WASM build the CLI uses), so the agreement test reads
// the schema exactly as Prisma does rather than with a hand-written parser.
import wasm from '@prisma/prisma-schema-wasm';

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
}

export interface Dmmf {
  datamodel: { models: { name: string; dbName: string | null; fields: DmmfField[] }[] };
}

export function getDMMF(schema: string): Dmmf {
  return JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schema]] }))) as Dmmf;
}
