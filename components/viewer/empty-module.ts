// Browser builds get this in place of Node's fs (the DICOM image loader names it but never uses it in a browser).
export {};
