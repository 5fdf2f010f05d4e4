"""Optional image effects of a :class:`~citytwin.render.scene_view.SceneView`: FXAA, SSAO and a horizon sky.

* **FXAA** (``vtkRenderer.UseFXAA``): a full-screen anti-aliasing pass over the final
  image, smoothing the stair steps of polygon edges without multi-sampling (MSAA
  multiplies the cost of every triangle with software OpenGL).
* **SSAO** (``vtkRenderer.UseSSAO``, VTK's ``vtkSSAOPass``): screen-space ambient
  occlusion, darkening creases such as the foot of a wall on the ground. The radius is
  in scene units (metres), so it is set from the size of the scene.
* **Horizon** (:class:`Horizon`): the sky quad coloured by the direction of each pixel's
  view ray instead of its height on the screen: blue overhead, haze at the horizon, a
  muted ground colour below it, so that the ground and the sky meet at the true
  horizon whatever the camera's tilt.

* **Shadows** (:class:`ShadowPasses`): the sun casts shadows through VTK's shadow-map
  passes (vtkShadowMapBakerPass draws the scene's depth seen from the sun into a square
  map, vtkShadowMapPass draws the scene with it). They replace the renderer's own
  sequence, so FXAA, SSAO, translucent layers and overlays are passes of the chain too.
  The city shader reads the map itself (:mod:`.lighting`): a hard test with a
  slope-scaled bias in metres instead of VTK's exponential falloff, which washes shadows
  out over a scene hundreds of metres deep. The map's frustum is the sun's parallel view
  of the visible props' bounds (VTK fits it), so no part of the scene falls outside it.

Their cost per frame with Mesa llvmpipe is measured by ``benchmarks/bench_render.py
--effects``; :data:`DEFAULT_EFFECTS` follows those figures (see benchmarks/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from vtkmodules.vtkRenderingCore import vtkActor, vtkRenderer

__all__ = ["SHADOW_RESOLUTION", "ShadowPasses", "NO_EFFECTS", "DEFAULT_EFFECTS", "EFFECT_NAMES", "GROUND_HAZE", "Effects", "Horizon", "RenderEffects", "apply_effects"]

# below the horizon a light, nearly neutral grey: the "ground" beyond the data must not look like
# terrain (a green one swallowed the outline of green terrain tiles in the overview)
GROUND_HAZE = (0.82, 0.85, 0.87)  # just below the horizon: land fading into the haze
GROUND_NEAR = (0.79, 0.80, 0.78)  # looking down past the city


@dataclass(frozen=True)
class RenderEffects:
    """Which effects are on."""

    fxaa: bool = True
    ssao: bool = False
    horizon: bool = True

    def with_(self, **kw: bool) -> RenderEffects:
        d = asdict(self)
        d.update({k: bool(v) for k, v in kw.items() if k in d})
        return RenderEffects(**d)


EFFECT_NAMES = {"fxaa": "Anti-aliasing (FXAA)", "ssao": "Ambient occlusion (SSAO)", "horizon": "Horizon sky"}
DEFAULT_EFFECTS = RenderEffects()  # what the viewer and 'citytwin render' start with (measured: see bench_render)
NO_EFFECTS = RenderEffects(fxaa=False, ssao=False, horizon=False)  # a plain SceneView (tests, baselines)


_SKY_VS_DEC = """//VTK::PositionVC::Dec
out vec2 skyNDC;
"""
_SKY_VS_IMPL = """
  gl_Position = vec4(vertexMC.xy, 1.0, 1.0);
  skyNDC = vertexMC.xy;
"""
_SKY_FS_DEC = """//VTK::PositionVC::Dec
in vec2 skyNDC;
"""  # the uniforms (skyUpVC, skyTan, ...) are declared by VTK from the custom uniforms
_SKY_FS_IMPL = """
  vec3 rayVC = skyParallel == 1 ? vec3(0.0, 0.0, -1.0) : vec3(skyNDC * skyTan, -1.0);
  // elevation measure, linear on the screen: zero exactly on the horizon line, bands parallel
  // to it (rows of one colour when the camera does not roll); ~sin(elevation) near the centre
  float s = dot(rayVC, skyUpVC);
  vec3 sky = mix(skyHaze, skyTop, sqrt(clamp(s, 0.0, 1.0)));
  vec3 ground = mix(groundHaze, groundNear, sqrt(clamp(-1.5 * s, 0.0, 1.0)));
  float t = smoothstep(-0.003, 0.003, s);  // a crisp but not jagged horizon line
  gl_FragData[0] = vec4(mix(ground, sky, t), 1.0);
"""


class Horizon:
    """Shades a :class:`~citytwin.render.lighting.SkyQuad` by view-ray elevation (see the module notes).

    The camera's up axis in view coordinates and the field of view are uploaded at each
    renderer ``StartEvent``; :meth:`remove` gives the quad its screen gradient back.
    """

    def __init__(self, renderer: vtkRenderer, sky: Any, top: Sequence[float], haze: Sequence[float],
                 ground_haze: Sequence[float] = GROUND_HAZE, ground_near: Sequence[float] = GROUND_NEAR) -> None:
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        self.renderer = renderer
        self.sky = sky
        self._old = sky.actor.GetShaderProperty()
        sp = vtkOpenGLShaderProperty()
        sp.AddVertexShaderReplacement("//VTK::PositionVC::Dec", True, _SKY_VS_DEC, False)
        sp.AddVertexShaderReplacement("//VTK::PositionVC::Impl", True, _SKY_VS_IMPL, False)
        sp.AddFragmentShaderReplacement("//VTK::PositionVC::Dec", True, _SKY_FS_DEC, False)
        sp.AddFragmentShaderReplacement("//VTK::Light::Impl", True, _SKY_FS_IMPL, False)
        sp.AddFragmentShaderReplacement("discard;", True, "", True)
        self.uniforms = sp.GetFragmentCustomUniforms()
        for name, rgb in (("skyTop", top), ("skyHaze", haze), ("groundHaze", ground_haze),
                          ("groundNear", ground_near)):
            self.uniforms.SetUniform3f(name, [float(c) for c in rgb])
        self.shader_property = sp
        sky.actor.SetShaderProperty(sp)
        self.update()
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self.update())  # type: ignore[call-overload,arg-type]

    def update(self) -> None:
        cam = self.renderer.GetActiveCamera()
        m = cam.GetViewTransformMatrix()
        up_vc = [m.GetElement(i, 2) for i in range(3)]  # world +z in view coordinates
        w, h = self.renderer.GetSize()
        aspect = w / h if h > 0 else 1.0
        tan = math.tan(math.radians(cam.GetViewAngle()) / 2.0)
        self.uniforms.SetUniform3f("skyUpVC", up_vc)
        self.uniforms.SetUniform2f("skyTan", [tan * aspect, tan])
        self.uniforms.SetUniformi("skyParallel", int(bool(cam.GetParallelProjection())))

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)
        self.sky.actor.SetShaderProperty(self._old)
        self._old.Modified()  # newer than the mapper's last shader build: it rebuilds with the old one


def ssao_radius(bounds: Sequence[float] | None) -> float:
    """SSAO sample radius in metres: a storey or so, less for a small scene (a single house)."""
    if bounds is None:
        return 3.0
    dx, dy, dz = (abs(float(bounds[2 * i + 1]) - float(bounds[2 * i])) for i in range(3))
    size = max(dx, dy, dz, 1e-3)
    if not math.isfinite(size):
        return 3.0
    return float(min(max(size * 0.004, 0.05), 4.0))


def apply_effects(renderer: vtkRenderer, effects: RenderEffects, bounds: Sequence[float] | None = None) -> None:
    """Switch FXAA and SSAO of ``renderer`` (the horizon belongs to the sky: see :class:`Horizon`)."""
    renderer.SetUseFXAA(bool(effects.fxaa))
    renderer.SetUseSSAO(bool(effects.ssao))
    if effects.ssao:
        r = ssao_radius(bounds)
        renderer.SetSSAORadius(r)
        renderer.SetSSAOBias(r * 0.06)  # less and flat walls get grainy self-occlusion
        renderer.SetSSAOKernelSize(16)  # VTK's default 32 doubles the cost on software GL for little gain
        renderer.SSAOBlurOn()


SHADOW_RESOLUTION = 2048  # texels a side of the shadow map
#: the object name of the city shader's property (:class:`~citytwin.render.lighting.CityLighting`),
#: which reads the shadow map itself
CITY_SHADER_NAME = "citytwin-city-lighting"
# vtkShadowMapPass's lookup for its first shadow-casting light, as it writes it
_SHADOW_CALL = ("calcShadow(vertexVC, shadowMap0, shadowTransform0, shadowAttenuation0, shadowParallel0, "
                "shadowNearZ0, shadowFarZ0);")
_UNSHADOWED = "citytwin-unshadowed"  # the object name of a shader property given the constant


class ShadowPasses:
    """The render-pass chain of a renderer drawing the sun's shadows (see the module notes).

    ``lights, shadow-map bake, opaque (with SSAO when on) with shadows, translucent
    (order-independent or depth peeling, as the renderer asks), volumes, overlays`` under
    one camera pass, and FXAA over the result when on (:meth:`use_fxaa` switches it per
    frame without rebuilding anything).
    """

    def __init__(self, renderer: vtkRenderer, effects: RenderEffects, bounds: Sequence[float] | None = None,
                 resolution: int = SHADOW_RESOLUTION) -> None:
        from vtkmodules.vtkRenderingOpenGL2 import (
            vtkCameraPass,
            vtkDualDepthPeelingPass,
            vtkLightsPass,
            vtkOpaquePass,
            vtkOpenGLFXAAPass,
            vtkOrderIndependentTranslucentPass,
            vtkOverlayPass,
            vtkRenderPassCollection,
            vtkSequencePass,
            vtkShadowMapPass,
            vtkSSAOPass,
            vtkTranslucentPass,
            vtkVolumetricPass,
        )

        def sequence(*passes: Any) -> Any:
            seq = vtkSequencePass()
            coll = vtkRenderPassCollection()
            for p in passes:
                coll.AddItem(p)
            seq.SetPasses(coll)
            return seq

        self.renderer = renderer
        self.shadow_pass = vtkShadowMapPass()
        self.baker = self.shadow_pass.GetShadowMapBakerPass()
        self.baker.SetResolution(int(resolution))
        if effects.ssao:
            r = ssao_radius(bounds)
            ssao = vtkSSAOPass()
            ssao.SetRadius(r)
            ssao.SetBias(r * 0.06)
            ssao.SetKernelSize(16)
            ssao.BlurOn()
            ssao.SetDelegatePass(vtkOpaquePass())
            self.shadow_pass.SetOpaqueSequence(sequence(vtkLightsPass(), ssao))
        translucent: Any
        if renderer.GetUseDepthPeeling():
            translucent = vtkDualDepthPeelingPass()
            translucent.SetMaximumNumberOfPeels(renderer.GetMaximumNumberOfPeels())
        else:
            translucent = vtkOrderIndependentTranslucentPass()
        translucent.SetTranslucentPass(vtkTranslucentPass())
        rest = (translucent, vtkVolumetricPass(), vtkOverlayPass())
        # the same chain with and without the bake: the map is drawn again only when what it
        # shows changed (:meth:`_choose`); VTK's baker would draw it on every frame here, as the
        # north arrow and the scale bar (2D actors) change with every camera move
        self.with_bake = sequence(vtkLightsPass(), self.baker, self.shadow_pass, *rest)
        self.without_bake = sequence(vtkLightsPass(), self.shadow_pass, *rest)
        self.camera_pass = vtkCameraPass()
        self.camera_pass.SetDelegatePass(self.with_bake)
        self._key: tuple[Any, ...] = ()
        self.bakes = 0  # shadow maps drawn (for tests and benchmarks)
        self.fxaa_pass = vtkOpenGLFXAAPass()
        self.fxaa_pass.SetDelegatePass(self.camera_pass)
        self.fxaa = False
        self.use_fxaa(effects.fxaa)
        self._fill_for_headlights()

    def _fill_for_headlights(self) -> None:
        """The baker draws the map again whenever a light changed, and a headlight changes with
        every camera move: the headlights give way to one fixed fill from overhead while the
        passes are on (positional with a 180° cone: it casts no shadow, has no map of its own).
        The city shader's own headlight term does not use them; other actors see the fill."""
        from vtkmodules.vtkRenderingCore import vtkLight

        lights = self.renderer.GetLights()
        items = [vtkLight.SafeDownCast(lights.GetItemAsObject(i)) for i in range(lights.GetNumberOfItems())]
        self.headlights = [lt for lt in items if lt is not None and lt.LightTypeIsHeadlight()]
        for lt in self.headlights:
            self.renderer.RemoveLight(lt)
        self.fill = vtkLight()
        self.fill.SetLightTypeToSceneLight()
        self.fill.PositionalOn()
        self.fill.SetConeAngle(180.0)
        self.fill.SetPosition(0.0, 0.0, 1.0e6)
        self.fill.SetFocalPoint(0.0, 0.0, 0.0)
        self.fill.SetIntensity(max((lt.GetIntensity() for lt in self.headlights), default=0.38))
        self.renderer.AddLight(self.fill)
        self._tag = self.renderer.AddObserver("StartEvent", lambda *_: self._choose())  # type: ignore[call-overload,arg-type]
        # the state after a frame is the reference: drawing itself touches the actors (the passes
        # set their keys on them), and that is no reason to draw the map again
        self._end_tag = self.renderer.AddObserver("EndEvent", lambda *_: self._drawn())  # type: ignore[call-overload,arg-type]

    def _drawn(self) -> None:
        self._key = self._state()

    def _state(self) -> tuple[Any, ...]:
        """What the shadow map depends on: the lights, the 3D actors (their visibility, properties,
        mappers and data) and the window's aspect ratio (the baker projects with it)."""
        key: list[Any] = [tuple(self.renderer.GetSize())]
        lights = self.renderer.GetLights()
        key += [lights.GetItemAsObject(i).GetMTime() for i in range(lights.GetNumberOfItems())]
        props = self.renderer.GetViewProps()
        for i in range(props.GetNumberOfItems()):
            p = vtkActor.SafeDownCast(props.GetItemAsObject(i))
            if p is None:
                continue  # 2D overlays cast nothing
            m = p.GetMapper()
            data = m.GetInputDataObject(0, 0) if m is not None and m.GetNumberOfInputPorts() else None
            key.append((p.GetVisibility(), p.GetMTime(), m.GetMTime() if m is not None else 0,
                        data.GetMTime() if data is not None else 0))
        return tuple(key)

    def _unshadow_others(self) -> None:
        """Actors other than the city's (sensor glyphs, rings, the sky) neither need nor always
        can take the shadow lookup vtkShadowMapPass puts into every shader (it needs the view
        coordinates, which a point-gaussian mapper's shader lacks): theirs is made a constant."""
        props = self.renderer.GetViewProps()
        for i in range(props.GetNumberOfItems()):
            a = vtkActor.SafeDownCast(props.GetItemAsObject(i))
            if a is None:
                continue
            sp = a.GetShaderProperty()
            if sp.GetObjectName() in (CITY_SHADER_NAME, _UNSHADOWED):
                continue
            if not sp.GetObjectName():
                sp.SetObjectName(_UNSHADOWED)  # done once per property (shared ones too)
            sp.AddFragmentShaderReplacement(_SHADOW_CALL, False, "vec2(1.0);", False)  # type: ignore[attr-defined]

    def _choose(self) -> None:
        self._unshadow_others()
        bake = self._state() != self._key
        if bake:
            self.bakes += 1
        self.camera_pass.SetDelegatePass(self.with_bake if bake else self.without_bake)

    def stale(self) -> None:
        """Draw the shadow map again on the next frame: the baker looks at the lights' and the
        actors' modification times only, not at their mappers' data (a LoD or colour change)."""
        self.fill.Modified()

    def use_fxaa(self, on: bool) -> None:
        self.fxaa = bool(on)
        self.renderer.SetPass(self.fxaa_pass if self.fxaa else self.camera_pass)

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)
        self.renderer.RemoveObserver(self._end_tag)
        self.renderer.SetPass(None)  # type: ignore[arg-type]
        self.renderer.RemoveLight(self.fill)
        for lt in self.headlights:
            self.renderer.AddLight(lt)
        self.headlights = []
        win = self.renderer.GetRenderWindow()
        if win is not None:  # the baker complains when deleted holding its light cameras and maps
            self.fxaa_pass.ReleaseGraphicsResources(win)


class Effects:
    """The effects of one renderer and its sky quad (None: no sky, no horizon): what
    :class:`~citytwin.render.scene_view.SceneView` and the Qt viewport switch."""

    def __init__(self, renderer: vtkRenderer, sky: Any, effects: RenderEffects = NO_EFFECTS,
                 shadows: bool = False) -> None:
        self.renderer = renderer
        self.sky = sky
        self.state = RenderEffects(fxaa=False, ssao=False, horizon=False)
        self.horizon: Horizon | None = None
        self.shadows = bool(shadows)
        self.passes: ShadowPasses | None = None
        self._bounds: Sequence[float] | None = None
        self.set(effects)

    def set(self, effects: RenderEffects, bounds: Sequence[float] | None = None) -> None:
        """Switch to ``effects``; ``bounds`` (the scene's, for the SSAO radius)."""
        from .lighting import SKY_BOTTOM, SKY_TOP

        self.state = effects
        self._bounds = bounds
        apply_effects(self.renderer, effects, bounds)
        self._build_passes()
        if effects.horizon and self.sky is not None and self.horizon is None:
            self.horizon = Horizon(self.renderer, self.sky, SKY_TOP, SKY_BOTTOM)
        elif not effects.horizon and self.horizon is not None:
            self.horizon.remove()
            self.horizon = None

    def set_shadows(self, on: bool) -> None:
        """Cast the sun's shadows (a pass chain replacing the renderer's own) or not."""
        self.shadows = bool(on)
        self._build_passes()

    def _build_passes(self) -> None:
        if self.passes is not None:
            self.passes.remove()
            self.passes = None
        if self.shadows:
            self.passes = ShadowPasses(self.renderer, self.state, self._bounds)

    def shadows_stale(self) -> None:
        """The scene's geometry changed: bake the shadow map again (see :meth:`ShadowPasses.stale`)."""
        if self.passes is not None:
            self.passes.stale()

    def use_fxaa(self, on: bool) -> None:
        """FXAA on this frame or not (the viewer draws it on still frames only)."""
        self.renderer.SetUseFXAA(bool(on))
        if self.passes is not None:
            self.passes.use_fxaa(on)

    def remove(self) -> None:
        if self.passes is not None:
            self.passes.remove()
            self.passes = None
        if self.horizon is not None:
            self.horizon.remove()
            self.horizon = None
        self.renderer.SetUseFXAA(False)
        self.renderer.SetUseSSAO(False)
