"""The papers' own headline numbers, quoted beside ours in reports (measured on different data).

PartSTAD (Kim & Sung, ECCV 2024), Tables 1-3: means over the 45 PartNet-Mobility categories, GLIP
boxes / SAM masks, 10 views of PartNetE point clouds. Fractions in [0, 1].

Part321 (the DST-Part3D paper), Table 5: means over 50 DST-Part3D categories ("3D mIoU" there is the
mean per-part 3D box IoU, CD the Chamfer distance x10^2); Table 4: 2D part mIoU on 279 real
ImageNet images of 5 categories (a different test set again). Fractions except Chamfer.
"""

from __future__ import annotations

PARTSTAD_SOURCE = "PartSTAD paper, Tables 1-3 (45 PartNet-Mobility categories; GLIP + SAM)"

PARTSTAD_PAPER: dict[str, dict[str, float | None]] = {
    "satr": {"miou": 0.293, "map50_part_aware": None, "map50_part_agnostic": None},
    "satr_sp": {"miou": 0.348, "map50_part_aware": None, "map50_part_agnostic": None},
    "partslip": {"miou": 0.580, "map50_part_aware": 0.416, "map50_part_agnostic": 0.389},
    "wo_weights": {"miou": 0.619, "map50_part_aware": 0.447, "map50_part_agnostic": 0.426},
    "wo_masks": {"miou": 0.621, "map50_part_aware": 0.442, "map50_part_agnostic": 0.426},
    "partstad": {"miou": 0.650, "map50_part_aware": 0.456, "map50_part_agnostic": 0.441},
}

PART321_SOURCE = ("Part321 paper, Table 5 (means over 50 DST-Part3D categories) and Table 4 "
                  "(2D mIoU on 279 real ImageNet images)")

PART321_PAPER: dict[str, dict[str, float | None]] = {
    "part321": {"pose_acc_pi6": 0.535, "chamfer": 7.16, "box_iou": 0.325, "miou_2d": 0.4262},
    "wo_scaling": {"pose_acc_pi6": 0.539, "chamfer": 7.98, "box_iou": 0.307, "miou_2d": None},
    "wo_constraint": {"pose_acc_pi6": 0.533, "chamfer": 7.32, "box_iou": 0.321, "miou_2d": None},
    "wo_deformation": {"pose_acc_pi6": 0.514, "chamfer": 8.35, "box_iou": 0.311, "miou_2d": None},
    # Table 4's 2D baselines are SegFormer / DeepLab v3+ trained on the synthetic images.
    "seg2d_baseline": {"pose_acc_pi6": None, "chamfer": None, "box_iou": None, "miou_2d": 0.3401},
}
