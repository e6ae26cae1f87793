// Placeholder: replaced by the schema-validation hook.
export {};
