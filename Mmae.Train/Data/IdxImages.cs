namespace Mmae.Train.Data;

/// <summary>Images read from an IDX file: <paramref name="Count"/> images of
/// <paramref name="Rows"/> × <paramref name="Cols"/> unsigned bytes.</summary>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Pixel rows per image.</param>
/// <param name="Cols">Pixel columns per image.</param>
/// <param name="Pixels">Count × Rows × Cols bytes, image-major then row-major, as
/// stored.</param>
public sealed record IdxImages(int Count, int Rows, int Cols, byte[] Pixels);
