// Response validation against the server's OpenAPI document (the same file the wire types
// are generated from). A response that does not match its schema is an ApiError the user
// sees ('bad_response', naming the path and the first mismatch), never a silent default.
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import type { components } from './schema.gen';
import openapi from './openapi.gen.json';

export type SchemaName = keyof components['schemas'];

// The document's components under a base id so '#/components/schemas/X' refs resolve. It is
// not checked against the JSON Schema meta-schema here (validateSchema: false: the server and
// `npm run contract` check the document; checking it cost ~230 ms of the first load's main
// thread), and validators are compiled without ajv's code optimisation pass (faster to compile,
// which a page does on its first response of each kind; running them stays microseconds).
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false, validateSchema: false, code: { optimize: false } });
ajv.addSchema({ $id: 'alphalab-openapi', components: (openapi as { components: unknown }).components }, 'alphalab-openapi');

const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.getSchema(`alphalab-openapi#/components/schemas/${name}`);
    if (!v) throw new Error(`schema ${name} is not in the OpenAPI document`);
    compiled.set(name, v);
  }
  return v;
}

/** null when `data` matches the schema, else a one-line description of the first mismatch. */
export function schemaMismatch(name: SchemaName, data: unknown): string | null {
  const v = validatorFor(name);
  if (v(data)) return null;
  const e = v.errors?.[0];
  if (!e) return 'does not match';
  const where = e.instancePath || '(root)';
  const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'` : '';
  const allowed = e.keyword === 'enum' ? ` (${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).map(String).join(', ')})` : '';
  return `${where} ${e.message ?? 'is invalid'}${extra}${allowed}`;
}
