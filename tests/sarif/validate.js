// Validates SARIF files against the SARIF 2.1.0 JSON schema bundled by
// @microsoft/sarif-matcher-utils (SchemaStore's sarif-2.1.0-rtm.5.json, draft-04), with ajv 6.
// usage: node tests/sarif/validate.js FILE.sarif...   exit 0 valid, 1 invalid, 2 bad usage
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const schemaPath = path.join(__dirname, 'node_modules/@microsoft/sarif-matcher-utils/lib/schemas/sarif-2.1.0-rtm.5.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const ajv = new Ajv({ schemaId: 'auto', allErrors: true });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json'));
const validate = ajv.compile(schema);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.js FILE.sarif...');
  process.exit(2);
}
let bad = 0;
for (const file of files) {
  const log = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(log)) continue;
  bad++;
  console.error(file + ': ' + ajv.errorsText(validate.errors, { separator: '\n  ' }));
}
process.exit(bad === 0 ? 0 : 1);
