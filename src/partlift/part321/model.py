"""The Part321 estimator: train on one annotated template + unannotated meshes with images, then
recognise an object's 3D parts from one image (scikit-learn style: ``fit`` returns self, then
``predict``, ``save`` / ``load``).

fit: (1) mesh-to-mesh correspondence template -> every training mesh (Eq. 1); (2) deformation
network on the corresponded positions (Eq. 2-3); (3) deformable neural mesh; (4) contrastive
training of Phi and Theta on the training images, with the template's vertices placed on each
imaged mesh by the correspondence (Eq. 6-8).
predict: feature map -> render-and-compare inference (section 4.4) -> pose, per-part posed meshes
and oriented 3D boxes in the camera frame, and the 2D part segmentation by projection.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import torch
from PIL import Image

from partlift.datasets.generation import to_jsonable, write_json_atomic
from partlift.errors import PartliftError, ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.boxes import Box3D, oriented_box
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.models.device import device_scope, resolve_device
from partlift.models.feature_cnn import FeatureCNN, FeatureCNNConfig
from partlift.part321.correspondence import (
    CorrespondenceConfig,
    MeshCorrespondence,
    PretrainConfig,
    pretrained_encoder,
)
from partlift.part321.data import TEMPLATE, TrainImage
from partlift.part321.deformation import DeformationConfig, Deformer
from partlift.part321.feature_training import FeatureTrainingConfig, TrainingView, train_features
from partlift.part321.foreground import ForegroundHead
from partlift.part321.inference import (
    InferenceConfig,
    InferenceResult,
    RenderSetup,
    feature_foreground,
    infer_variants,
    torch_threads,
)
from partlift.part321.neural_mesh import DeformableNeuralMesh
from partlift.render.camera import Camera
from partlift.render.rasterize import rasterize
from partlift.render.shading import nearest_corner_labels
from partlift.validation import bounded, config_from_dict, validate_config

if TYPE_CHECKING:
    from partlift.models.hf_backbone import HFBackbone

MODEL_FORMAT = "partlift-part321-model"
FOREGROUND_FILE = "foreground_head.pt"
"""The learned foreground head in a model folder (optional: older models have none)."""
MODEL_VERSION = 2  # 2: weights-only checkpoints (1 pickled numpy arrays in neural_mesh.pt)


@dataclass(frozen=True)
class Part321Config:
    """Everything that defines a Part321 model (saved as config.json beside it)."""

    feature_dim: int = bounded(64, ge=1)
    """Dimension of Theta and of Phi's features (NeMo: 128)."""
    stride: Literal[4, 8] = 4
    """Output stride of Phi (4 or 8)."""
    backbone: Literal["cnn", "hf"] = "cnn"
    """"cnn" (trained from scratch) or "hf" (a transformers model from ``hf_path``, frozen)."""
    hf_path: str | None = None
    """Local folder of the transformers backbone when ``backbone == "hf"``."""
    cnn_widths: tuple[int, ...] = bounded((32, 48, 64, 96, 128), ge=1)
    """Encoder widths of the CNN backbone."""
    vertex_positions: Literal["corr", "deform"] = "corr"
    """Where the template's vertices sit in a training image of mesh y: "corr" (the corresponded
    vertex V_{y, Corr(y0, k, y)}) or "deform" (the deformation network's output)."""
    correspondence: CorrespondenceConfig = field(default_factory=CorrespondenceConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    deformation: DeformationConfig = field(default_factory=DeformationConfig)
    training: FeatureTrainingConfig = field(default_factory=FeatureTrainingConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    seed: int = bounded(0, ge=0)
    """Seed of Phi's initialisation and Theta's."""

    def __post_init__(self) -> None:
        validate_config(self)

    def to_dict(self) -> dict:
        return to_jsonable(self)

    @staticmethod
    def from_dict(d: dict, where: object = None) -> Part321Config:
        """The config saved as ``d``. A section written before one of its settings existed gets the
        value it was trained with then (``SETTINGS_ADDED_LATER``), not today's default."""
        if isinstance(d, dict):
            d = dict(d)
            for (section, name), then in SETTINGS_ADDED_LATER.items():
                if isinstance(d.get(section), dict) and name not in d[section]:
                    d[section] = {**d[section], name: then}
        return config_from_dict(Part321Config, d, where)


SETTINGS_ADDED_LATER: dict[tuple[str, str], object] = {
    # Eq. 6 as written weights every negative alike; the default became 10 later (docs/PART321.md)
    ("training", "flip_negative_weight"): 1.0,
}
"""(section, setting) -> the value a saved config without the setting was run with."""


@dataclass
class Part321Prediction:
    """What Part321 recognises in one image. Camera frame = OpenCV camera of the image.

    Attributes:
        azimuth, elevation, theta: object pose (radians, NeMo convention); distance: camera distance.
        camera: the image camera with the estimated pose (world = object frame).
        part_names: names of the parts.
        vertices: (K, 3) float32 camera-frame vertices of the posed, deformed, part-moved mesh.
        faces: (F, 3) int64 its faces; labels: (K,) int64 part label per vertex.
        boxes: per part an oriented 3D box in the camera frame (None for an empty part).
        mask: (H, W) int64 2D part segmentation (-1 = background) by projecting the 3D parts.
        result: the raw inference result; seconds: timing per stage.
    """

    azimuth: float
    elevation: float
    theta: float
    distance: float
    camera: Camera
    part_names: tuple[str, ...]
    vertices: np.ndarray
    faces: np.ndarray
    labels: np.ndarray
    boxes: list[Box3D | None]
    mask: np.ndarray
    result: InferenceResult
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def pose(self) -> tuple[float, float, float]:
        return (self.azimuth, self.elevation, self.theta)

    def part_mesh(self, part: int | str) -> PartMesh:
        """The posed mesh of one part (camera frame)."""
        k = self.part_names.index(part) if isinstance(part, str) else int(part)
        mesh = PartMesh(self.vertices, self.faces, self.labels, self.part_names)
        return mesh.submesh(mesh.face_labels() == k)

    def to_dict(self) -> dict:
        """JSON-ready summary (pose, camera, per-part boxes and centres; no per-vertex arrays)."""
        parts = {}
        for k, name in enumerate(self.part_names):
            sel = self.labels == k
            box = self.boxes[k]
            parts[name] = {
                "box": None if box is None else box.to_dict(),
                "num_vertices": int(sel.sum()),
                "center": self.vertices[sel].mean(axis=0).tolist() if sel.any() else None,
            }
        return {
            "pose": {"azimuth": self.azimuth, "elevation": self.elevation, "theta": self.theta,
                     "distance": self.distance, "units": "radians"},
            "camera": self.camera.to_dict(),
            "frame": "camera (OpenCV: x right, y down, z forward), docs/CONVENTIONS.md",
            "parts": parts,
            "confidence": self.confidence(),
            "seconds": self.seconds,
        }

    def confidence(self) -> dict:
        """How sure the pose is: the loss gap to the runner-up pose hypothesis (usually the
        front/back flip; larger = surer, near 0 = the image hardly tells them apart), the
        hypotheses themselves, and whether a foreground was found for the silhouette."""
        res = self.result
        return {"flip_margin": res.flip_margin, "foreground_found": res.foreground,
                "hypotheses": [{"azimuth": h["pose"][0], "elevation": h["pose"][1], "theta": h["pose"][2],
                                "distance": h["pose"][3], "loss": h["loss"]} for h in res.hypotheses]}


def build_backbone(cfg: Part321Config) -> FeatureCNN | HFBackbone:
    """Phi: the from-scratch CNN or the optional transformers backbone."""
    if cfg.backbone == "cnn":
        return FeatureCNN(FeatureCNNConfig(dim=cfg.feature_dim, stride=cfg.stride, widths=tuple(cfg.cnn_widths)))
    if cfg.backbone == "hf":
        if not cfg.hf_path:
            raise PartliftError("backbone 'hf' needs hf_path: a local folder of a transformers vision model")
        from partlift.models.hf_backbone import HFBackbone

        return HFBackbone(cfg.hf_path, dim=cfg.feature_dim, stride=cfg.stride)
    raise PartliftError(f"unknown backbone {cfg.backbone!r}; use 'cnn' or 'hf'")


def image_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1]."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise PartliftError(f"expected an (H, W, 3) RGB image, got shape {a.shape}")
    return torch.from_numpy(np.array(a[..., :3], dtype=np.float32)).permute(2, 0, 1)[None] / 255.0


class Part321:
    """Single-image 3D part recognition with one annotated mesh per category (module docstring)."""

    def __init__(self, config: Part321Config = Part321Config(), device: str | torch.device = "cpu") -> None:
        """``device``: torch device of feature training and render-and-compare inference
        (:func:`partlift.models.device.resolve_device`); correspondence pretraining, the deformation
        fit and rasterisation run on the CPU."""
        self.device = resolve_device(device)
        self.config = config
        self.mesh: DeformableNeuralMesh | None = None
        self.net: FeatureCNN | HFBackbone | None = None
        self.foreground: ForegroundHead | None = None
        self.meta: dict = {}

    # ------------------------------------------------------------------ training
    def correspondences(self, template: PartMesh, meshes: Sequence[PartMesh]) -> list[np.ndarray]:
        """Per training mesh, (K,) index of the vertex corresponding to each template vertex (Eq. 1)."""
        cfg = self.config
        encoder = None if cfg.correspondence.method == "geometric" else pretrained_encoder(cfg.pretrain)
        corr = MeshCorrespondence(cfg.correspondence, encoder)
        tf = corr.vertex_features(template)
        return [corr.match_features(tf, corr.vertex_features(m)) for m in meshes]

    def fit(
        self,
        template: PartMesh,
        meshes: Sequence[PartMesh],
        images: Sequence[TrainImage],
        workdir: str | Path | None = None,
        progress: bool = False,
    ) -> Part321:
        """Train on an annotated template, unannotated meshes (labels ignored) and their images.

        Args:
            template: the one annotated mesh (unit-box frame).
            meshes: training meshes (unit-box frame); their labels are never read.
            images: training images; ``mesh`` indexes ``meshes`` or is ``TEMPLATE``.
            workdir: folder for resumable checkpoints (feature training).
            progress: progress bars.
        """
        cfg = self.config
        assert template.labels is not None  # set by PartMesh.__post_init__
        if (template.labels < 0).all():
            raise PartliftError(f"template {template.name!r} has no part labels: Part321 needs one annotated mesh")
        if not images:
            raise PartliftError("Part321 needs training images")
        for im in images:
            if im.mesh != TEMPLATE and not 0 <= im.mesh < len(meshes):
                raise PartliftError(f"training image {im.name!r} refers to mesh {im.mesh} of {len(meshes)}")
        seconds: dict[str, float] = {}
        torch.manual_seed(cfg.seed)
        t0 = time.perf_counter()
        with torch.device("cpu"):  # correspondence and deformation run on the CPU (small networks)
            return self._fit(template, meshes, images, workdir, progress, seconds, t0)

    def _fit(self, template: PartMesh, meshes: Sequence[PartMesh], images: Sequence[TrainImage],
             workdir: str | Path | None, progress: bool, seconds: dict[str, float], t0: float) -> Part321:
        cfg = self.config
        matches = self.correspondences(template, meshes)
        targets = [m.vertices[idx] for m, idx in zip(meshes, matches, strict=True)]
        seconds["correspondence"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        deformer = None
        if targets and cfg.deformation.steps > 0:
            deformer = Deformer(cfg.deformation).fit(template.vertices, template.faces, targets, progress=progress)
        seconds["deformation"] = time.perf_counter() - t0

        names = ("template",) + tuple(m.name or f"mesh_{i}" for i, m in enumerate(meshes))
        mesh = DeformableNeuralMesh.from_template(template, cfg.feature_dim, deformer, names, seed=cfg.seed)
        positions = [template.vertices]
        for y, tgt in enumerate(targets):
            if cfg.vertex_positions == "deform" and deformer is not None:
                positions.append(deformer.predict(template.vertices, np.eye(deformer.latent_dim)[y + 1]))
            elif cfg.vertex_positions in ("corr", "deform"):
                positions.append(tgt)
            else:
                raise PartliftError(f"unknown vertex_positions {cfg.vertex_positions!r}; use 'corr' or 'deform'")
        views = [TrainingView(im.image, im.camera, positions[im.mesh + 1], im.depth, name=im.name) for im in images]

        t0 = time.perf_counter()
        torch.manual_seed(cfg.seed)
        net = build_backbone(cfg)
        ckpt = None
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
            ckpt = Path(workdir) / "features.ckpt"
        state = train_features(net, mesh, views, cfg.training, checkpoint=ckpt, progress=progress, device=self.device)
        seconds["features"] = time.perf_counter() - t0

        self.mesh, self.net = mesh.to(self.device), net.eval()
        t0 = time.perf_counter()
        self.fit_foreground(images)
        seconds["foreground"] = time.perf_counter() - t0
        cams = [im.camera for im in images]
        self.meta = {
            "category": template.category,
            "image_size": [int(cams[0].height), int(cams[0].width)],
            "focal": float(np.median([c.fx for c in cams])),
            "distance": float(np.median([np.linalg.norm(c.translation) for c in cams])),
            "num_meshes": len(meshes),
            "num_images": len(images),
            "feature_losses": state.epoch_losses,
            "train_seconds": seconds,
        }
        return self

    def fit_foreground(self, images: Sequence[TrainImage]) -> Part321:
        """Fit the foreground head (:mod:`partlift.part321.foreground`) on the trained features of
        ``images`` and their object masks (finite depth). Also upgrades a model saved without one."""
        self._check()
        feats = [self.features(im.image) for im in images]
        self.foreground = ForegroundHead().fit(feats, [np.isfinite(im.depth) for im in images])
        return self

    def foreground_mask(self, feature: torch.Tensor) -> np.ndarray:
        """(h, w) bool object pixels of a feature map, as inference finds them (``inference.foreground``)."""
        self._check()
        assert self.mesh is not None
        return feature_foreground(feature.float(), self.mesh, self.config.inference, self.foreground)

    # ------------------------------------------------------------------ inference
    def _check(self) -> None:
        if self.mesh is None or self.net is None:
            raise PartliftError("the Part321 model is not trained (call fit or load)")

    def default_camera(self, width: int, height: int) -> Camera:
        """The camera assumed for an image without one: the training cameras' field of view across
        the image's longer side (f = f_train x max(W, H) / W_train, square pixels), the principal
        point at the image centre, the training median distance, pose 0 (docs/PART321.md)."""
        h0, w0 = self.meta["image_size"]
        f = self.meta["focal"] * max(width, height) / w0
        return Camera.from_pose(azimuth=0.0, elevation=0.0, distance=self.meta["distance"], focal=f, width=width,
                                height=height)

    def features(self, image: np.ndarray) -> torch.Tensor:
        """(C, h, w) feature map of an image already at the model's input size."""
        self._check()
        assert self.net is not None  # checked by _check
        with torch.no_grad(), torch_threads(self.config.inference.threads), device_scope(self.device):
            return self.net(image_tensor(image).to(self.device))[0]

    @overload
    def predict(
        self, image: np.ndarray, camera: Camera | None = ..., config: InferenceConfig | None = ...,
        variants: None = ..., use_camera_distance: bool = ..., initial_pose: tuple[float, ...] | None = ...,
        fix_pose: bool = ...,
    ) -> Part321Prediction: ...

    @overload
    def predict(
        self, image: np.ndarray, camera: Camera | None = ..., config: InferenceConfig | None = ..., *,
        variants: dict[str, InferenceConfig], use_camera_distance: bool = ...,
        initial_pose: tuple[float, ...] | None = ..., fix_pose: bool = ...,
    ) -> dict[str, Part321Prediction]: ...

    def predict(
        self,
        image: np.ndarray,
        camera: Camera | None = None,
        config: InferenceConfig | None = None,
        variants: dict[str, InferenceConfig] | None = None,
        use_camera_distance: bool = False,
        initial_pose: tuple[float, ...] | None = None,
        fix_pose: bool = False,
    ) -> Part321Prediction | dict[str, Part321Prediction]:
        """Recognise the object's parts in one image.

        Args:
            image: (H, W, 3) uint8 RGB. An image of another aspect ratio than the training images
                is padded (border pixels repeated) to it, then resized to the training size; the
                mask and camera of the prediction are in the input image's own pixels.
            camera: the image's intrinsics (its pose is ignored); default :meth:`default_camera`.
            config: inference settings (default the model's).
            variants: {name: config} to run several part stages after one shared pose stage
                (returns {name: prediction}).
            use_camera_distance: the object's distance is known: ``camera``'s (the norm of its
                translation), kept fixed (NeMo's evaluation protocol, docs/PART321.md). Otherwise it is
                estimated from the object's extent (``distance_init``) and optimised.
            initial_pose: skip the grid search; start from (azimuth, elevation, theta[, distance]).
            fix_pose: keep ``initial_pose`` fixed and fit only the parts (a diagnostic).
        """
        self._check()
        assert self.mesh is not None  # checked by _check
        t0 = time.perf_counter()
        img = np.asarray(image)
        h0, w0 = self.meta["image_size"]
        if camera is None:
            camera = self.default_camera(img.shape[1], img.shape[0])
        if camera.width != img.shape[1] or camera.height != img.shape[0]:
            raise PartliftError(f"camera {camera.width}x{camera.height} does not match the image "
                                f"{img.shape[1]}x{img.shape[0]}")
        original = camera
        img, camera = self.model_input(img, camera)
        feat = self.features(img)
        t_feat = time.perf_counter() - t0
        s = self.config.stride
        fcam = camera.resized(w0 // s, h0 // s)
        dist = float(np.linalg.norm(camera.translation)) if use_camera_distance else self.meta["distance"]
        setup = RenderSetup((fcam.fx, fcam.fy, fcam.cx, fcam.cy), fcam.width, fcam.height, dist)
        cfgs = variants if variants is not None else {"result": config or self.config.inference}
        if use_camera_distance:
            cfgs = {k: replace(c, optimize_distance=False) for k, c in cfgs.items()}
        with device_scope(self.device):
            results = infer_variants(self.mesh, feat, setup, cfgs, initial_pose, fix_pose, self.foreground)
        out = {}
        for name, res in results.items():
            t1 = time.perf_counter()
            pred = self._prediction(res, original)  # the input's own frame and size
            pred.seconds = {"features": t_feat, **res.seconds, "outputs": time.perf_counter() - t1}
            pred.seconds["total"] = sum(pred.seconds.values())
            out[name] = pred
        return out if variants is not None else out["result"]

    def model_input(self, image: np.ndarray, camera: Camera) -> tuple[np.ndarray, Camera]:
        """``image`` padded to the training aspect ratio and resized to the training size, and its
        camera moved and scaled with it (:func:`pad_to_aspect`)."""
        h0, w0 = self.meta["image_size"]
        img, camera = pad_to_aspect(np.asarray(image)[..., :3], camera, w0 / h0)
        if img.shape[:2] != (h0, w0):
            img = np.asarray(Image.fromarray(img).resize((w0, h0), Image.Resampling.BILINEAR))
            camera = camera.resized(w0, h0)
        return img, camera

    def _prediction(self, res: InferenceResult, camera: Camera) -> Part321Prediction:
        mesh = self.mesh
        assert mesh is not None  # checked by _check in predict
        cam = Camera.from_pose(azimuth=res.azimuth, elevation=res.elevation, theta=res.theta, distance=res.distance,
                               focal=camera.fx, width=camera.width, height=camera.height,
                               principal=(camera.cx, camera.cy))
        cam = replace(cam, fy=camera.fy)
        verts = res.camera_vertices
        boxes: list[Box3D | None] = []
        for k in range(mesh.num_parts):
            p = verts[mesh.labels == k]
            boxes.append(oriented_box(p) if len(p) else None)
        ident = Camera(np.eye(3), np.zeros(3), camera.fx, camera.fy, camera.cx, camera.cy, camera.width,
                       camera.height, znear=1e-3, zfar=1e4)
        frag = rasterize(verts, mesh.faces, ident, num_threads=1)
        assert frag.bary is not None  # with_bary defaults to True
        mask = nearest_corner_labels(frag.face_ids, frag.bary, mesh.faces, mesh.labels)[0].astype(np.int64)
        return Part321Prediction(
            azimuth=res.azimuth, elevation=res.elevation, theta=res.theta, distance=res.distance, camera=cam,
            part_names=mesh.part_names, vertices=verts, faces=mesh.faces, labels=mesh.labels, boxes=boxes,
            mask=mask, result=res,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Write config.json, neural_mesh.pt, feature_net.pt, foreground_head.pt and, last, meta.json
        into ``folder``.

        ``meta.json`` marks the folder finished: it is removed first and written after everything
        else, so a folder whose save was interrupted has none and :meth:`load` refuses it.
        """
        self._check()
        assert self.mesh is not None and self.net is not None  # checked by _check
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.json").unlink(missing_ok=True)
        write_json_atomic(folder / "config.json",
                          {"format": MODEL_FORMAT, "version": MODEL_VERSION, **self.config.to_dict()})
        self.mesh.save(folder / "neural_mesh.pt")
        state = {k: v.cpu() for k, v in self.net.state_dict().items()}
        atomic_torch_save({"describe": self.net.describe(), "state": state}, folder / "feature_net.pt")
        if self.foreground is not None:
            self.foreground.save(folder / FOREGROUND_FILE)
        else:
            (folder / FOREGROUND_FILE).unlink(missing_ok=True)
        write_json_atomic(folder / "meta.json", self.meta)
        return folder

    @staticmethod
    def load(folder: str | Path, device: str | torch.device = "cpu") -> Part321:
        """Read a folder written by :meth:`save`, its networks on ``device``.

        Raises ReadError naming the file if one is missing, damaged, unsafe to unpickle, from another
        model, or written in an older format (retrain then).
        """
        folder = Path(folder)
        cfg_file = folder / "config.json"
        if not cfg_file.is_file():
            raise ReadError(f"not a Part321 model folder (no config.json): {folder}")
        d = _read_json(cfg_file)
        if d.pop("format", None) != MODEL_FORMAT:
            raise ReadError(f"{cfg_file} is not a Part321 model config")
        version = d.pop("version", None)
        if version != MODEL_VERSION:
            raise ReadError(f"{folder} is Part321 model format {version}, this partlift reads format {MODEL_VERSION} "
                            "(older models cannot be loaded safely); retrain it with `partlift train part321`")
        if not is_saved_model(folder):
            raise ReadError(f"{folder} holds an unfinished Part321 model (no meta.json: its save was interrupted); "
                            "train it again with `partlift train part321`")
        model = Part321(Part321Config.from_dict(d, where=cfg_file), device=device)
        model.meta = _read_json(folder / "meta.json")
        model.mesh = DeformableNeuralMesh.load(folder / "neural_mesh.pt").to(model.device)
        ck = load_torch_checkpoint(folder / "feature_net.pt", what="Part321 feature network", keys=("state",))
        net = build_backbone(model.config)
        load_state_dict_checked(net, ck["state"], folder / "feature_net.pt", what="Part321 feature network")
        model.net = net.to(model.device).eval()
        if (folder / FOREGROUND_FILE).is_file():  # models saved before the head have none
            model.foreground = ForegroundHead.load(folder / FOREGROUND_FILE)
        return model


def pad_to_aspect(image: np.ndarray, camera: Camera, aspect: float) -> tuple[np.ndarray, Camera]:
    """Pad (H, W, 3) ``image`` symmetrically, repeating its border pixels, to width / height =
    ``aspect``, and shift ``camera``'s principal point with it (the camera frame is unchanged, so
    3D results need no correction; 2D results are cropped back by the caller's own camera)."""
    h, w = image.shape[:2]
    if abs(w / h - aspect) < 1e-6:
        return image, camera
    new_w, new_h = (round(h * aspect), h) if w / h < aspect else (w, round(w / aspect))
    left, top = (new_w - w) // 2, (new_h - h) // 2
    padded = np.pad(image, ((top, new_h - h - top), (left, new_w - w - left), (0, 0)), mode="edge")
    return padded, replace(camera, cx=camera.cx + left, cy=camera.cy + top, width=new_w, height=new_h)


def is_saved_model(folder: str | Path) -> bool:
    """Whether ``folder`` holds a finished :meth:`Part321.save` (its last file, ``meta.json``, exists)."""
    return (Path(folder) / "meta.json").is_file()


def saved_model_version(folder: str | Path) -> int | None:
    """The format version in a Part321 model folder's config.json (None if unreadable)."""
    try:
        return json.loads((Path(folder) / "config.json").read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        return None


def _read_json(path: Path) -> dict:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot read {path}: {type(exc).__name__}: {one_line(exc)}") from exc
    if not isinstance(d, dict):
        raise ReadError(f"{path} does not hold a JSON object")
    return d
