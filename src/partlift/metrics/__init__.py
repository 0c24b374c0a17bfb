"""metrics layer: the papers' evaluation metrics, each with its formula in its module docstring.

- ``segmentation``: PartNetE semantic mIoU (part -> category -> overall).
- ``instance``: instance mAP50, part-aware and part-agnostic (101-point AP).
- ``pose``: NeMo pose error, Acc@pi/6, Acc@pi/18, median error.
- ``chamfer``: Chamfer distance with explicit conventions.
- ``box3d``: exact oriented 3D box IoU.
- ``image2d``: 2D mask / box IoU and part-mask mIoU.
- ``oversegmentation``: superpoint purity and kNN-edge boundary recall / precision.
- ``partstad_eval`` / ``part321_eval``: whole-directory evaluations behind ``partlift eval``.

Definitions and defaults: docs/CONVENTIONS.md, "Metrics"; file layouts: docs/FORMATS.md, "Metric files".
"""
