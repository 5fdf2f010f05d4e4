"""The scene's light and sky: a sun and a headlight, the cheap city shader, the sky gradient.

Shared by the off-screen :class:`~citytwin.render.scene_view.SceneView` and the Qt
viewport (through :mod:`.viewtools`), so the window and snapshots look alike; a module of
its own so that neither imports the other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from vtkmodules.vtkRenderingCore import vtkLight, vtkRenderer

from .textures import check_gl

__all__ = ["NIGHT_AMBIENT", "NIGHT_HEAD", "NIGHT_TINT", "SKY_BOTTOM", "SKY_TOP", "CityLighting", "scene_sun", "shadow_bias", "SkyQuad", "camera_direction", "setup_background", "setup_lights"]

SKY_TOP = (0.50, 0.66, 0.84)
SKY_BOTTOM = (0.90, 0.93, 0.96)


def camera_direction(azimuth_deg: float, elevation_deg: float) -> NDArray[np.float64]:
    """Unit vector from the focal point towards the camera; azimuth is the compass
    bearing the camera stands at (225 = south-west), elevation above the horizon."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)])


SUN_AZIMUTH_ELEVATION = (215.0, 50.0)
SUN_INTENSITY = 0.8
HEAD_INTENSITY = 0.38

# The city actors' lighting, replacing VTK's generic per-light loop: the same sun and
# headlight, diffuse only. VTK's loop computes a specular term with pow() per light
# per fragment; with software OpenGL (llvmpipe) the two lights cost about a quarter
# of the frame. The sun's direction in view coordinates is a custom uniform updated
# before each render, so the shader does not depend on the renderer's lights.
#
# It is substituted *after* VTK's own (a post replacement: ``//VTK::Light::Impl`` is
# kept at the end of VTK's lighting code), so that render passes see the tag they expect:
# vtkShadowMapBakerPass writes the light-space depth after it, vtkShadowMapPass puts its
# shadow factors before it and vtkSSAOPass adds its tag after it. VTK's lighting is then
# dead code the GLSL compiler drops (its output is overwritten here). Where the shadow pass
# is drawing, ``CITY_SHADOWS`` is defined (see _SHADOW_MARK) and the sun term is
# multiplied by the light reaching the fragment, read from the pass's shadow map.
_CITY_LIGHT_IMPL = """
  float citySunLit = 1.0;
#ifdef CITY_SHADOWS
  {
    vec4 sc = shadowTransform0 * vertexVC;
    if (sc.w > 0.0) {
      vec2 sp = sc.xy / sc.w;
      sp.x = 0.5 + (sp.x - 0.5) / cityBakeAspect;  // the baker drew with the window's aspect
      if (sp.x >= 0.0 && sp.x <= 1.0 && sp.y >= 0.0 && sp.y <= 1.0 && sc.z <= 1.0) {
        // the map holds exp(11 z) of the nearest surface (vtkShadowMapBakerPass, z 0..1 near..far),
        // read texel by texel: filtering would blend in the cleared texels (< 1) beside the
        // scene's edges, which are no surface, and draw dark seams there
        ivec2 size = textureSize(shadowMap0, 0);
        float m = texelFetch(shadowMap0, clamp(ivec2(sp * vec2(size)), ivec2(0), size - 1), 0).r;
        if (m >= 1.0) {
          float zOcc = log(m) / 11.0;
          float behind = (sc.z - zOcc) * (shadowFarZ0 - shadowNearZ0);  // metres behind the occluder
          float cosL = clamp(dot(normalVCVSOutput, -citySunVC), 0.05, 1.0);
          float bias = cityShadowBias * (1.0 + 2.0 * sqrt(1.0 - cosL * cosL) / cosL);  // slope-scaled
          citySunLit = 1.0 - smoothstep(bias, 2.0 * bias, behind);
        }
      }
    }
  }
#endif
  float dfSun = max(0.0, dot(normalVCVSOutput, -citySunVC)) * citySunLit;
  float dfHead = max(0.0, normalVCVSOutput.z);
  fragOutput0 = vec4(cityTint * (ambientColor * cityAmbient + (dfSun * citySunIntensity + dfHead * cityHeadIntensity)
                                 * diffuseColor), opacity);
  //VTK::Light::Impl
"""
# vtkShadowMapPass's code at //VTK::Light::Impl starts with this line where its light 0 (the sun)
# casts a shadow: it gets a define in front that switches the lookup above on
_SHADOW_MARK = "vec2 factor0 = calcShadow("
_SHADOW_DEFINE = "\n#define CITY_SHADOWS 1\nvec2 factor0 = calcShadow("

#: Below the horizon: no sun, a dim bluish (moonlit) fill from the headlight and the ambient term
NIGHT_HEAD = 0.3
NIGHT_AMBIENT = 0.8
NIGHT_TINT = (0.72, 0.80, 1.0)


def setup_lights(renderer: vtkRenderer) -> None:
    """A sun from the south-west, high, fixed in the scene, and a headlight as fill.

    Two lights only: with software OpenGL every light costs per pixel, and the
    headlight lights whatever faces the camera, as a fixed fill light would. The Qt
    viewport should call this too, so that the window and snapshots look alike.
    City actors added through :class:`SceneView` use a cheaper shader with the same
    two lights (see :class:`CityLighting`); other actors use these VTK lights.
    """
    renderer.AutomaticLightCreationOff()
    renderer.RemoveAllLights()
    sun = vtkLight()
    sun.SetLightTypeToSceneLight()
    sun.PositionalOff()
    sun.SetPosition(*camera_direction(*SUN_AZIMUTH_ELEVATION))
    sun.SetFocalPoint(0.0, 0.0, 0.0)
    sun.SetIntensity(SUN_INTENSITY)
    head = vtkLight()
    head.SetLightTypeToHeadlight()
    head.SetIntensity(HEAD_INTENSITY)
    renderer.AddLight(sun)
    renderer.AddLight(head)
    renderer.SetTwoSidedLighting(True)


def scene_sun(renderer: vtkRenderer) -> vtkLight | None:
    """The renderer's sun (its first directional scene light, see :func:`setup_lights`), or None."""
    lights = renderer.GetLights()
    for i in range(lights.GetNumberOfItems()):
        light = vtkLight.SafeDownCast(lights.GetItemAsObject(i))
        if light is not None and light.LightTypeIsSceneLight() and not light.GetPositional():
            return light
    return None


def shadow_bias(bounds: Sequence[float] | None, resolution: int) -> float:
    """Metres a surface must lie behind the nearest one in the shadow map to be in shadow:
    about two texels of a map covering the scene (the sun's view of its bounding box)."""
    if bounds is None:
        return 0.3
    size = np.array([abs(float(bounds[2 * i + 1]) - float(bounds[2 * i])) for i in range(3)])
    diag = float(np.linalg.norm(size))
    if not math.isfinite(diag):
        return 0.3
    return float(max(0.05, 2.0 * diag / max(int(resolution), 1)))


class CityLighting:
    """One shader property shared by a renderer's city actors: sun + headlight, diffuse only.

    Looks like :func:`setup_lights` with the visual's material (ambient 0.3, diffuse
    0.78) minus its faint specular highlight (0.04), at about the cost of one VTK light.
    The sun direction in view coordinates is updated from the camera at each
    renderer ``StartEvent``.
    """

    def __init__(self, renderer: vtkRenderer, sun_direction: Sequence[float] | None = None,
                 sun_intensity: float = SUN_INTENSITY, head_intensity: float = HEAD_INTENSITY) -> None:
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        self.renderer = renderer
        d = np.asarray(sun_direction if sun_direction is not None else camera_direction(*SUN_AZIMUTH_ELEVATION),
                       dtype=np.float64)
        self.sun_towards = d / np.linalg.norm(d)  # world direction towards the sun
        self.shader_property = vtkOpenGLShaderProperty()
        self.shader_property.SetObjectName("citytwin-city-lighting")  # effects.CITY_SHADER_NAME: reads the map itself
        self.shader_property.AddFragmentShaderReplacement("//VTK::Light::Impl", False, _CITY_LIGHT_IMPL, False)
        self.shader_property.AddFragmentShaderReplacement(_SHADOW_MARK, False, _SHADOW_DEFINE, False)
        # VTK's fragment shader discards fragments with alpha <= 0; a shader that may
        # discard gets no early depth write in llvmpipe, so hidden surfaces are shaded.
        # The city's colours are RGB (alpha 1): alpha is the actor's opacity, and a
        # visual with opacity 0 hides its actor instead (VtkCityVisual.set_opacity).
        self.shader_property.AddFragmentShaderReplacement("discard;", True, "", True)
        self.uniforms = self.shader_property.GetFragmentCustomUniforms()
        self.sun_intensity = float(sun_intensity)
        self.head_intensity = float(head_intensity)
        self.night = False
        self.uniforms.SetUniformf("cityShadowBias", 0.3)
        self._set_levels()
        self.update()
        self._gl_checked = False
        self._tag = renderer.AddObserver("StartEvent", lambda *_: self._on_start())  # type: ignore[call-overload,arg-type]

    def _on_start(self) -> None:
        if not self._gl_checked:  # the first frame, context current: texture filtering for this GL
            self._gl_checked = True
            win = self.renderer.GetRenderWindow()
            if win is not None:
                check_gl(win)
        self.update()

    def apply(self, actor: Any) -> None:
        """Light ``actor`` with this shader (no specular). A city layer's texture actors get
        it too (:meth:`VtkCityVisual.actors`), so textured and untextured walls are lit alike
        (the texture multiplies the lit white surface)."""
        actor.SetShaderProperty(self.shader_property)
        actor.GetProperty().SetSpecular(0.0)

    def _set_levels(self) -> None:
        night = self.night
        self.uniforms.SetUniformf("citySunIntensity", 0.0 if night else self.sun_intensity)
        self.uniforms.SetUniformf("cityHeadIntensity", NIGHT_HEAD if night else self.head_intensity)
        self.uniforms.SetUniformf("cityAmbient", NIGHT_AMBIENT if night else 1.0)
        self.uniforms.SetUniform3f("cityTint", list(NIGHT_TINT) if night else [1.0, 1.0, 1.0])

    def set_sun(self, towards: Sequence[float] | None) -> None:
        """The sun's direction (unit vector from the scene towards the sun, scene axes),
        or ``None`` with the sun below the horizon: no sun light, a dim moonlit fill."""
        if towards is None:
            self.night = True
        else:
            d = np.asarray(towards, dtype=np.float64)
            self.sun_towards = d / np.linalg.norm(d)
            self.night = False
        light = scene_sun(self.renderer)
        if light is not None:  # the VTK sun: other actors' light and the shadow map's view
            light.SetSwitch(not self.night)
            light.SetPosition(*(float(v) for v in self.sun_towards))
            light.SetFocalPoint(0.0, 0.0, 0.0)
        self._set_levels()
        self.update()

    def set_shadow_bias(self, metres: float) -> None:
        """Depth offset (at normal incidence) before a surface counts as behind another in the shadow map."""
        self.uniforms.SetUniformf("cityShadowBias", float(metres))

    def update(self) -> None:
        """Sun direction (light travelling towards the scene) in view coordinates."""
        m = self.renderer.GetActiveCamera().GetViewTransformMatrix()
        rot = np.array([[m.GetElement(i, j) for j in range(3)] for i in range(3)])
        vc = rot @ (-self.sun_towards)
        self.uniforms.SetUniform3f("citySunVC", [float(v) for v in vc])
        # vtkShadowMapBakerPass draws the light's view into a square map but projects it
        # with the renderer's aspect ratio; the lookup undoes that (see _CITY_LIGHT_IMPL)
        w, h = self.renderer.GetSize()
        self.uniforms.SetUniformf("cityBakeAspect", float(w) / float(h) if w > 0 and h > 0 else 1.0)

    def remove(self) -> None:
        self.renderer.RemoveObserver(self._tag)


def setup_background(renderer: vtkRenderer, sky: bool = True) -> None:
    """Gradient sky (light haze at the horizon, blue above) or a plain light background.

    This is VTK's gradient background: a full-screen pass before the scene. :class:`SceneView`
    draws the same gradient with :class:`SkyQuad` instead, only where nothing else is drawn.
    """
    renderer.SetBackground(*SKY_BOTTOM)
    renderer.SetBackground2(*SKY_TOP)
    renderer.SetGradientBackground(bool(sky))


_SKY_VS_POSITION = """
  gl_Position = vec4(vertexMC.xy, 1.0, 1.0);
"""


class SkyQuad:
    """The sky gradient as an opaque full-screen quad on the far plane (depth 1.0).

    It looks like VTK's gradient background (:func:`setup_background`: ``bottom`` at the
    bottom edge, ``top`` at the top edge, linear in between) but passes the depth test
    only where nothing nearer was drawn. Drawn after the city (the renderer's last
    opaque prop, see :meth:`raise_to_top`), the pixels the city covers are rejected by
    the early depth test instead of shaded first and overdrawn: with software OpenGL
    VTK's gradient pass costs ~13 % of a frame at 1280x800. The renderer itself clears
    to ``bottom``. The quad has no bounds (camera framing and clipping ignore it) and
    is not pickable.
    """

    def __init__(self, renderer: vtkRenderer, bottom: Sequence[float] = SKY_BOTTOM,
                 top: Sequence[float] = SKY_TOP) -> None:
        from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLShaderProperty

        self.renderer = renderer
        pts = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], dtype=np.float32)
        rgb = np.rint(np.array([bottom, bottom, top, top], dtype=np.float64) * 255).astype(np.uint8)
        pd = vtkPolyData()
        vp = vtkPoints()
        vp.SetData(numpy_to_vtk(pts, deep=True))
        pd.SetPoints(vp)
        ca = vtkCellArray()
        ca.SetData(numpy_to_vtkIdTypeArray(np.array([0, 3, 6], np.int64), deep=True),
                   numpy_to_vtkIdTypeArray(np.array([0, 1, 2, 0, 2, 3], np.int64), deep=True))
        pd.SetPolys(ca)
        colors = numpy_to_vtk(rgb, deep=True)
        colors.SetName("sky")
        pd.GetPointData().SetScalars(colors)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(pd)
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUsePointData()
        mapper.ScalarVisibilityOn()
        sp = vtkOpenGLShaderProperty()
        sp.AddVertexShaderReplacement("//VTK::PositionVC::Impl", True, _SKY_VS_POSITION, False)
        sp.AddFragmentShaderReplacement("discard;", True, "", True)  # opaque: keep early depth writes
        # its own unlit colour, no tag left for render passes: vtkShadowMapPass would put a
        # shadow lookup there that needs view coordinates, which the quad's vertex shader lacks
        sp.AddFragmentShaderReplacement("//VTK::Light::Impl", True,
                                        "  gl_FragData[0] = vec4(ambientColor + diffuseColor, opacity);\n", False)
        self.actor = vtkActor()
        self.actor.SetMapper(mapper)
        self.actor.SetShaderProperty(sp)
        self.actor.SetUseBounds(False)
        self.actor.PickableOff()
        prop = self.actor.GetProperty()
        prop.LightingOff()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
        self._polydata = pd
        renderer.SetGradientBackground(False)
        renderer.SetBackground(*bottom)
        renderer.AddActor(self.actor)

    def raise_to_top(self) -> None:
        """Make the quad the last actor drawn (call after adding actors)."""
        self.renderer.RemoveActor(self.actor)
        self.renderer.AddActor(self.actor)

    def remove(self) -> None:
        self.renderer.RemoveActor(self.actor)
