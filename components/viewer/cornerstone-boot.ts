// Cornerstone in a chunk of its own (3.6 MB), imported by the viewer once the page has painted its preview of the
// first image: executed alongside the page's own scripts it kept the browser from painting anything for about a
// second. In the browser it hands the modules to the viewer.
import * as cs from "@cornerstonejs/core";
import * as loader from "@cornerstonejs/dicom-image-loader";
import { provideCornerstone } from "./cornerstone-registry";

if (typeof window !== "undefined") provideCornerstone({ cs, loader });
