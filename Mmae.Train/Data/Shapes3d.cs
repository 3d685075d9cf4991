using PureHDF;
using PureHDF.Selections;

namespace Mmae.Train.Data;

/// <summary>
/// Reads 3D Shapes (Burgess and Kim 2018) from DeepMind's <c>3dshapes.h5</c>: <c>images</c>
/// N×64×64×3 uint8 and <c>labels</c> N×6 float64 (floor_hue, wall_hue, object_hue, scale,
/// shape, orientation), through PureHDF.
/// </summary>
/// <remarks>
/// Images are stored height × width × RGB and become planes R, G, B (3 × 64 × 64). Factors:
/// shape is discrete, the others continuous; a factor's classes are the ranks of its distinct
/// values. The labels are the shape classes.
/// Limitation: the full file holds 480,000 images (5.9 GB as bytes, four times that as floats),
/// more than one array holds; pass <c>maxCount</c> to read every k-th image instead, which keeps
/// every factor's range since the file is ordered by factor. Get the file from
/// https://github.com/deepmind/3d-shapes.
/// </remarks>
public static class Shapes3d
{
    /// <summary>The factor names, in the order of the columns of <c>labels</c>.</summary>
    public static readonly IReadOnlyList<string> FactorNames =
        ["floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"];

    private const int Side = 64;
    private const int ShapeColumn = 4;

    /// <summary>Reads the images and labels of an .h5 file.</summary>
    /// <param name="path">The file, for example 3dshapes.h5.</param>
    /// <param name="range">Where pixels 0 and 255 go.</param>
    /// <param name="maxCount">At most this many images, taken at an even stride from the
    /// whole file; null reads all.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="DataFormatException">Not HDF5, a missing dataset, a wrong type or
    /// shape, counts that disagree, or more images than one array holds.</exception>
    public static Dataset Load(
        string path,
        PixelRange range = PixelRange.MinusOneToOne,
        int? maxCount = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream = DataFile.OpenRead(path);
        try
        {
            using var file = H5File.Open(stream, leaveOpen: false);
            IH5Dataset images = Find(path, file, "images");
            IH5Dataset labels = Find(path, file, "labels");
            ulong[] imageDims = images.Space.Dimensions;
            ulong[] labelDims = labels.Space.Dimensions;
            CheckType(path, "images", images, H5DataTypeClass.FixedPoint, 1, "uint8");
            CheckType(path, "labels", labels, H5DataTypeClass.FloatingPoint, 8, "float64");
            if (imageDims.Length != 4 || imageDims[1] != Side || imageDims[2] != Side
                || imageDims[3] != 3)
            {
                throw new DataFormatException(path,
                    $"images: expected shape (N, {Side}, {Side}, 3), found ({string.Join(", ", imageDims)})");
            }

            ulong n = imageDims[0];
            if (labelDims.Length != 2 || labelDims[0] != n || labelDims[1] != 6)
            {
                throw new DataFormatException(path,
                    $"labels: expected shape ({n}, 6) to match images, found ({string.Join(", ", labelDims)})");
            }

            // Every stride-th image, so that at most maxCount are read.
            ulong limit = (ulong)Math.Max(1, maxCount ?? int.MaxValue);
            ulong stride = n == 0 ? 1 : (n + limit - 1) / limit;
            ulong count = n == 0 ? 0 : (n + stride - 1) / stride;
            const int imageBytes = 3 * Side * Side;
            if (count == 0 || count * imageBytes > (ulong)Array.MaxLength)
            {
                throw new DataFormatException(path,
                    $"images: {count} images do not fit one array of floats; "
                    + "choose a smaller maximum count");
            }

            byte[] hwc = images.Read<byte[]>(
                new HyperslabSelection(4, [0, 0, 0, 0], [stride, Side, Side, 3], [count, 1, 1, 1],
                    [1, Side, Side, 3]),
                memoryDims: [count * imageBytes]);
            double[] values = labels.Read<double[]>(
                new HyperslabSelection(2, [0, 0], [stride, 6], [count, 1], [1, 6]),
                memoryDims: [count * 6]);
            return Build((int)count, hwc, values, range);
        }
        catch (Exception ex) when (ex is not (DataFormatException or IOException
            or OutOfMemoryException))
        {
            throw new DataFormatException(path,
                $"not a readable HDF5 file ({ex.GetType().Name}: {DataFile.OneLine(ex.Message)})", ex);
        }
    }

    private static Dataset Build(int count, byte[] hwc, double[] values, PixelRange range)
    {
        // Height x width x RGB to planes R, G, B.
        const int plane = Side * Side;
        byte[] chw = new byte[hwc.Length];
        for (int i = 0; i < count; i++)
        {
            int image = i * 3 * plane;
            for (int p = 0; p < plane; p++)
            {
                for (int c = 0; c < 3; c++)
                {
                    chw[image + c * plane + p] = hwc[image + 3 * p + c];
                }
            }
        }

        var factors = new Factor[FactorNames.Count];
        for (int f = 0; f < factors.Length; f++)
        {
            float[] column = new float[count];
            for (int i = 0; i < count; i++)
            {
                column[i] = (float)values[6 * i + f];
            }

            FactorKind kind = f == ShapeColumn ? FactorKind.Discrete : FactorKind.Continuous;
            factors[f] = new Factor(FactorNames[f], kind, FactorTable.RankClasses(column), column);
        }

        float[] features = PixelScaling.Scale(chw, 255, range);
        return new Dataset("shapes3d", count, 3 * plane, features, factors[ShapeColumn].Classes,
            new ImageShape(3, Side, Side), new FactorTable(count, factors), range);
    }

    private static IH5Dataset Find(string path, IH5Group file, string name)
    {
        if (!file.LinkExists(name))
        {
            string present = string.Join(", ", file.Children().Select(c => c.Name));
            throw new DataFormatException(path,
                $"missing dataset '{name}'; the file holds: {(present.Length == 0 ? "nothing" : present)}");
        }

        return file.Dataset(name);
    }

    private static void CheckType(
        string path,
        string name,
        IH5Dataset dataset,
        H5DataTypeClass expectedClass,
        int expectedSize,
        string expected)
    {
        IH5DataType type = dataset.Type;
        if (type.Class != expectedClass || type.Size != expectedSize
            || (type.Class == H5DataTypeClass.FixedPoint && type.FixedPoint.IsSigned))
        {
            throw new DataFormatException(path,
                $"{name}: expected {expected}, found {type.Class} of {type.Size} bytes");
        }
    }
}
